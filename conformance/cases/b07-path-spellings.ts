import { join } from 'node:path';
import type { Attempt, Case } from '../case.js';
import { lit, sh } from '../quoting.js';

/** Different spellings of the same outside path: a fence keyed on strings rather than inodes would fall for one. */
const c: Case = {
  id: '07',
  title: 'path spellings: ../wt-b/x, ././../, //, trailing /, very long paths',
  section: 'B',
  expect: 'content-writes',
  attempts: (s) => {
    const deep = Array.from({ length: 40 }, (_, i) => `d${i}`).join('/');
    // 40 levels down, 41 back up: the repo dir, then into wt-b.
    const up = '../'.repeat(41);
    const longOut = `${deep}/${up}wt-b/conf-07-long`;
    const spellings: [string, string][] = [
      ['../wt-b/x', '../wt-b/conf-07-rel'],
      ['././../', './././../wt-b/./conf-07-dots'],
      ['//', `/${s.wtB.replace(/\//g, '//')}//conf-07-slashes`],
      ['wt-a/../wt-b', `${s.wtA}/../wt-b/conf-07-via-wta`],
    ];
    const attempts: Attempt[] = spellings.flatMap(([label, p]): Attempt[] => [
      { name: `sh write ${label}`, via: 'sh', script: `echo x > ${sh(p)}` },
      { name: `node write ${label}`, via: 'node', script: `require('fs').writeFileSync(${lit(`${p}-node`)},'x')` },
      { name: `python write ${label}`, via: 'python3', script: `open(${lit(`${p}-py`)}, 'w').write('x')` },
    ]);
    attempts.push(
      { name: 'sh mkdir trailing /', via: 'sh', script: `mkdir ../wt-b/conf-07-trailing/` },
      { name: 'python mkdir trailing /', via: 'python3', script: `import os; os.mkdir('../wt-b/conf-07-trailing-py/')` },
      { name: 'sh append through a 40-level path that climbs back out', via: 'sh', script: `mkdir -p ${deep} && echo x >> ${sh(longOut)}` },
      { name: 'node write through a long climbing path', via: 'node', script: `const fs=require('fs');fs.mkdirSync(${lit(deep)},{recursive:true});fs.writeFileSync(${lit(`${longOut}-node`)},'x')` },
      { name: 'python append ../wt-b/work.txt', via: 'python3', script: `open(${lit(join('..', 'wt-b', 'work.txt'))}, 'a').write('x')` },
    );
    return attempts;
  },
};
export default c;
