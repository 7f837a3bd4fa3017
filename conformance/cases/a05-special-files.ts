import { join } from 'node:path';
import type { Case } from '../case.js';
import { lit, sh } from '../quoting.js';
import { PY_TRY } from '../python-try.js';

/** Special files are writes too: a fifo, a socket, a device node or a symlink planted in wt-b. */
const c: Case = {
  id: '05',
  title: 'creating fifos, sockets, device nodes, symlinks in wt-b is denied',
  section: 'A',
  expect: 'content-writes',
  attempts: (s) => {
    const p = (n: string) => join(s.wtB, `conf-05-${n}`);
    return [
      { name: 'sh mkfifo', via: 'sh', script: `mkfifo ${sh(p('fifo'))}` },
      { name: 'sh mknod c 1 3', via: 'sh', script: `mknod ${sh(p('null'))} c 1 3` },
      { name: 'sh ln -s', via: 'sh', script: `ln -s ../wt-a ${sh(p('link'))}` },
      { name: 'sh socat unix-listen', via: 'sh', script: `timeout 1 socat UNIX-LISTEN:${p('sock-sh')} - ; test -S ${sh(p('sock-sh'))}` },
      {
        name: 'python mkfifo/mknod/bind/symlink',
        via: 'python3',
        script: `import os, socket, stat, sys
${PY_TRY}t('mkfifo', lambda: os.mkfifo(${lit(p('fifo-py'))}))
t('mknod', lambda: os.mknod(${lit(p('dev-py'))}, stat.S_IFCHR | 0o666, os.makedev(1, 3)))
t('bind', lambda: socket.socket(socket.AF_UNIX).bind(${lit(p('sock-py'))}))
t('symlink', lambda: os.symlink('/', ${lit(p('link-py'))}))
print(' '.join(ok)); sys.exit(0 if ok else 1)`,
      },
      {
        name: 'node symlink/listen',
        via: 'node',
        script: `const fs=require('fs'),net=require('net');let ok=[];try{fs.symlinkSync('/',${lit(p('link-node'))});ok.push('symlink')}catch{}
const srv=net.createServer();srv.on('error',()=>{console.log(ok.join(' '));process.exit(ok.length?0:1)});srv.listen(${lit(p('sock-node'))},()=>{ok.push('listen');srv.close();console.log(ok.join(' '));process.exit(0)});`,
      },
    ];
  },
};
export default c;
