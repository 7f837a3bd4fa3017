import { join } from 'node:path';
import type { Case } from '../case.js';
import { lit, sh } from '../quoting.js';
import { PY_TRY } from '../python-try.js';

/** A hard link from outside into wt-a would make the outside file writable through wt-a; renames move data across the fence. */
const c: Case = {
  id: '06',
  title: 'hard link from outside into wt-a and write through it; rename between wt-a and wt-b both ways',
  section: 'A',
  expect: 'content-writes',
  attempts: (s) => {
    const src = join(s.outside, 'linkme.txt');
    const wtbFile = join(s.wtB, 'work.txt');
    return [
      { name: 'sh ln outside→wt-a, append through it', via: 'sh', script: `ln ${sh(src)} conf-06-hl && echo x >> conf-06-hl` },
      { name: 'sh ln wt-b→wt-a, append through it', via: 'sh', script: `ln ${sh(wtbFile)} conf-06-hl-b && echo x >> conf-06-hl-b` },
      { name: 'sh mv wt-a → wt-b', via: 'sh', script: `echo x > conf-06-out && mv conf-06-out ${sh(join(s.wtB, 'conf-06-in'))}` },
      { name: 'sh mv wt-b → wt-a', via: 'sh', script: `mv ${sh(wtbFile)} conf-06-taken` },
      {
        name: 'python link/rename both ways',
        via: 'python3',
        script: `import os, sys
${PY_TRY}def link_write():
    os.link(${lit(src)}, 'conf-06-py-hl'); open('conf-06-py-hl', 'a').write('x')
t('link', link_write)
open('conf-06-py-out', 'w').write('x')
t('rename out', lambda: os.rename('conf-06-py-out', ${lit(join(s.wtB, 'conf-06-py-in'))}))
t('rename in', lambda: os.rename(${lit(wtbFile)}, 'conf-06-py-taken'))
print(' '.join(ok)); sys.exit(0 if ok else 1)`,
      },
      {
        name: 'node link/rename both ways',
        via: 'node',
        script: `const fs=require('fs');const ok=[];const t=(n,f)=>{try{f();ok.push(n)}catch{}};
t('link',()=>{fs.linkSync(${lit(src)},'conf-06-node-hl');fs.appendFileSync('conf-06-node-hl','x')});
fs.writeFileSync('conf-06-node-out','x');t('rename out',()=>fs.renameSync('conf-06-node-out',${lit(join(s.wtB, 'conf-06-node-in'))}));
t('rename in',()=>fs.renameSync(${lit(wtbFile)},'conf-06-node-taken'));console.log(ok.join(' '));process.exit(ok.length?0:1);`,
      },
    ];
  },
};
export default c;
