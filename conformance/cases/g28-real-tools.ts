import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Case } from '../case.js';

/** Real tools keep working under the fence, writing into the workspace and TMPDIR. */
const c: Case = {
  id: '28',
  title: 'real tools work: node, python3, cc, make, npm install into the workspace, TMPDIR',
  section: 'G',
  expect: 'allow',
  attempts: (s) => {
    const w = (p: string) => join(s.wtA, p);
    return [
      {
        name: 'node writes a file',
        via: 'node',
        script: `require('fs').writeFileSync('conf-28-node.txt', 'node ' + process.version)`,
        verify: () => (readFileSync(w('conf-28-node.txt'), 'utf8').startsWith('node v') ? undefined : 'no node output on the host'),
      },
      {
        name: 'python3 writes a file',
        via: 'python3',
        script: `import sys; open('conf-28-py.txt', 'w').write('python %d' % sys.version_info[0])`,
        verify: () => (existsSync(w('conf-28-py.txt')) ? undefined : 'no python output on the host'),
      },
      {
        name: 'cc compiles into the workspace (temps in TMPDIR)',
        via: 'sh',
        script: `set -e; printf '#include <stdio.h>\\nint main(void){puts("hello from the fence");return 0;}\\n' > conf-28-hello.c; cc -o conf-28-hello conf-28-hello.c`,
        verify: () => {
          const out = execFileSync(w('conf-28-hello')).toString();
          return out.includes('hello from the fence') ? undefined : `the built binary printed ${out}`;
        },
      },
      {
        name: 'make runs a recipe',
        via: 'sh',
        script: `set -e; printf 'conf-28-made.txt:\\n\\techo made > $@\\n' > conf-28-Makefile; make -s -f conf-28-Makefile`,
        verify: () => (existsSync(w('conf-28-made.txt')) ? undefined : 'make left no target'),
      },
      {
        name: 'TMPDIR is private and writable',
        via: 'sh',
        script: 'set -e; test -n "$TMPDIR"; echo scratch > "$TMPDIR/conf-28"; cat "$TMPDIR/conf-28"; mktemp',
      },
      {
        name: 'npm install of a local package into the workspace',
        via: 'sh',
        timeoutMs: 60_000,
        script: `set -e; mkdir -p conf-28-dep conf-28-app
printf '{"name":"conf-28-dep","version":"1.0.0","main":"index.js"}' > conf-28-dep/package.json
echo 'module.exports = 42' > conf-28-dep/index.js
printf '{"name":"conf-28-app","version":"1.0.0","dependencies":{"conf-28-dep":"file:../conf-28-dep"}}' > conf-28-app/package.json
cd conf-28-app && npm install --no-audit --no-fund --offline --loglevel=error && node -e "process.exit(require('conf-28-dep') === 42 ? 0 : 1)"`,
        verify: () => (existsSync(w('conf-28-app/node_modules/conf-28-dep')) ? undefined : 'node_modules/conf-28-dep missing on the host'),
      },
    ];
  },
};
export default c;
