import { dirname, join } from 'node:path';
import type { Case } from '../case.js';
import { lit, sh } from '../quoting.js';

/** Moving the fence's own anchors: rename wt-a or an ancestor away, swap paths with renameat2. */
const c: Case = {
  id: '10',
  title: 'rename wt-a or an ancestor and put a symlink in its place; rename a protected ancestor; renameat2 exchange',
  section: 'B',
  expect: 'content-writes',
  attempts: (s) => {
    const repo = dirname(s.wtA);
    return [
      {
        name: 'sh rename wt-a away, symlink wt-b in its place, write',
        via: 'sh',
        script: `cd / && mv ${sh(s.wtA)} ${sh(`${s.wtA}-moved`)} && ln -s wt-b ${sh(s.wtA)} && echo x > ${sh(join(s.wtA, 'conf-10-swapped'))}`,
      },
      {
        name: 'sh rename the repo (an ancestor of wt-a) away and back',
        via: 'sh',
        script: `cd / && mv ${sh(repo)} ${sh(`${repo}-moved`)} && mv ${sh(`${repo}-moved`)} ${sh(repo)}`,
      },
      {
        name: 'sh rename wt-b away, write inside, rename back',
        via: 'sh',
        script: `mv ${sh(s.wtB)} ${sh(`${s.wtB}-x`)} && echo x > ${sh(`${s.wtB}-x/conf-10-inside`)}; mv ${sh(`${s.wtB}-x`)} ${sh(s.wtB)}`,
      },
      {
        name: 'python renameat2 RENAME_EXCHANGE wt-a file <-> wt-b file, and wt-a <-> wt-b',
        via: 'python3',
        script: `import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
AT_FDCWD, RENAME_EXCHANGE, RENAME_NOREPLACE = -100, 2, 1
open('conf-10-mine', 'w').write('from wt-a')
ok = []
if libc.renameat2(AT_FDCWD, b'conf-10-mine', AT_FDCWD, ${lit(join(s.wtB, 'work.txt'))}.encode(), RENAME_EXCHANGE) == 0: ok.append('exchange files')
if libc.renameat2(AT_FDCWD, ${lit(s.wtA)}.encode(), AT_FDCWD, ${lit(s.wtB)}.encode(), RENAME_EXCHANGE) == 0: ok.append('exchange worktrees')
open('conf-10-new', 'w').write('x')
if libc.renameat2(AT_FDCWD, b'conf-10-new', AT_FDCWD, ${lit(join(s.wtB, 'conf-10-noreplace'))}.encode(), RENAME_NOREPLACE) == 0: ok.append('noreplace into wt-b')
print(' '.join(ok)); sys.exit(0 if ok else 1)`,
      },
      {
        name: 'node rename wt-a away and put a symlink to wt-b in its place',
        via: 'node',
        script: `const fs=require('fs');process.chdir('/');try{fs.renameSync(${lit(s.wtA)},${lit(`${s.wtA}-node-moved`)});fs.symlinkSync('wt-b',${lit(s.wtA)});fs.writeFileSync(${lit(join(s.wtA, 'conf-10-node'))},'x');}catch(e){console.log(e.code);process.exit(1)}`,
      },
    ];
  },
};
export default c;
