import { join } from 'node:path';
import type { Attempt, Case } from '../case.js';
import { lit, sh } from '../quoting.js';
import { PY_TRY } from '../python-try.js';

/** Symlinks the agent plants in its own worktree, pointing out of it. */
const c: Case = {
  id: '08',
  title: 'symlinks in wt-a to wt-b: final, middle, dangling (write creates target), to /',
  section: 'B',
  expect: 'content-writes',
  attempts: (s) => {
    const wtbRel = '../wt-b';
    const fromRoot = s.wtB.slice(1);
    const attempts: Attempt[] = [
      { name: 'sh symlink as final component', via: 'sh', script: `ln -s ${wtbRel}/work.txt conf-08-final && echo x >> conf-08-final` },
      { name: 'sh symlink as middle component', via: 'sh', script: `ln -s ${wtbRel} conf-08-mid && echo x > conf-08-mid/conf-08-through` },
      { name: 'sh dangling symlink, write creates target', via: 'sh', script: `ln -s ${wtbRel}/conf-08-created conf-08-dangle && echo x > conf-08-dangle` },
      { name: 'sh symlink to /', via: 'sh', script: `ln -s / conf-08-root && echo x > conf-08-root/${sh(fromRoot)}/conf-08-via-root` },
      { name: 'sh symlink to ~', via: 'sh', script: `ln -s ${sh(s.home)} conf-08-home && echo x >> conf-08-home/.bashrc` },
    ];
    attempts.push({
      name: 'node symlinks: final, middle, dangling, /',
      via: 'node',
      script: `const fs=require('fs');const ok=[];const t=(n,f)=>{try{f();ok.push(n)}catch{}};
t('final',()=>{fs.symlinkSync('${wtbRel}/work.txt','conf-08-n-final');fs.appendFileSync('conf-08-n-final','x')});
t('middle',()=>{fs.symlinkSync('${wtbRel}','conf-08-n-mid');fs.writeFileSync('conf-08-n-mid/conf-08-n-through','x')});
t('dangling',()=>{fs.symlinkSync('${wtbRel}/conf-08-n-created','conf-08-n-dangle');fs.writeFileSync('conf-08-n-dangle','x')});
t('root',()=>{fs.symlinkSync('/','conf-08-n-root');fs.writeFileSync(${lit(`conf-08-n-root/${fromRoot}/conf-08-n-via-root`)},'x')});
console.log(ok.join(' '));process.exit(ok.length?0:1);`,
    });
    attempts.push({
      name: 'python symlinks: final, middle, dangling, / (O_CREAT through links)',
      via: 'python3',
      script: `import os, sys
${PY_TRY}def final():
    os.symlink('${wtbRel}/work.txt', 'conf-08-p-final'); open('conf-08-p-final', 'a').write('x')
def middle():
    os.symlink('${wtbRel}', 'conf-08-p-mid'); open('conf-08-p-mid/conf-08-p-through', 'w').write('x')
def dangling():
    os.symlink('${wtbRel}/conf-08-p-created', 'conf-08-p-dangle'); os.close(os.open('conf-08-p-dangle', os.O_CREAT | os.O_WRONLY, 0o644))
def root():
    os.symlink('/', 'conf-08-p-root'); open(${lit(join('conf-08-p-root', fromRoot, 'conf-08-p-via-root'))}, 'w').write('x')
for n, fn in (('final', final), ('middle', middle), ('dangling', dangling), ('root', root)):
    t(n, fn)
print(' '.join(ok)); sys.exit(0 if ok else 1)`,
    });
    return attempts;
  },
};
export default c;
