import { join } from 'node:path';
import type { Case } from '../case.js';
import { lit, sh } from '../quoting.js';

/** /proc magic links resolve without the usual path walk: each must still be fenced. */
const c: Case = {
  id: '09',
  title: '/proc/self/root, /proc/self/cwd/.., /proc/<other agent>/cwd, /proc/self/fd/N and /dev/fd/N re-opens',
  section: 'B',
  expect: 'content-writes',
  attempts: (s) => {
    const other = s.victims.agent?.pid ?? 0;
    const work = join(s.wtB, 'work.txt');
    return [
      { name: 'sh /proc/self/root/<wt-b>', via: 'sh', script: `echo x > /proc/self/root${sh(join(s.wtB, 'conf-09-root'))}` },
      { name: 'sh /proc/self/cwd/../wt-b', via: 'sh', script: `echo x > /proc/self/cwd/../wt-b/conf-09-cwd` },
      { name: 'sh /proc/<other agent>/cwd', via: 'sh', script: `echo x > /proc/${other}/cwd/conf-09-other-cwd` },
      { name: 'sh /proc/<other agent>/root/<wt-b>', via: 'sh', script: `echo x > /proc/${other}/root${sh(join(s.wtB, 'conf-09-other-root'))}` },
      { name: 'sh /dev/fd/N re-open of a read-only fd for append', via: 'sh', script: `exec 3< ${sh(work)}; echo x >> /dev/fd/3` },
      {
        name: 'python /proc/self/fd/N and /dev/fd/N re-open for write',
        via: 'python3',
        script: `import os, sys
ok = []
for base in ('/proc/self/fd', '/dev/fd'):
    fd = os.open(${lit(work)}, os.O_RDONLY)
    try:
        w = os.open('%s/%d' % (base, fd), os.O_WRONLY | os.O_APPEND)
        os.write(w, b'x'); ok.append(base)
    except OSError:
        pass
try:
    d = os.open(${lit(s.wtB)}, os.O_RDONLY | os.O_DIRECTORY)
    os.close(os.open('conf-09-dirfd', os.O_CREAT | os.O_WRONLY, 0o644, dir_fd=d)); ok.append('openat(dirfd of wt-b)')
except OSError:
    pass
print(' '.join(ok)); sys.exit(0 if ok else 1)`,
      },
      {
        name: 'node /proc/self/fd/N re-open and /proc/<other>/cwd',
        via: 'node',
        script: `const fs=require('fs');const ok=[];const fd=fs.openSync(${lit(work)},'r');
try{fs.appendFileSync('/proc/self/fd/'+fd,'x');ok.push('fd')}catch{}
try{fs.writeFileSync('/proc/${other}/cwd/conf-09-node-other','x');ok.push('other cwd')}catch{}
try{fs.writeFileSync('/proc/self/root'+${lit(join(s.wtB, 'conf-09-node-root'))},'x');ok.push('root')}catch{}
console.log(ok.join(' '));process.exit(ok.length?0:1);`,
      },
    ];
  },
};
export default c;
