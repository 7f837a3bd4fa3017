import type { Case } from '../case.js';
import { LEAKED_FD } from '../fenced-session.js';

/**
 * What the supervisor hands the agent. The judge starts `celistra run` with an extra
 * fd (LEAKED_FD) open for append on a file outside every fence (as a careless parent shell
 * would): the agent must get its stdio and nothing else. Judged by the file on the
 * host; the inventory each attempt prints is evidence only.
 */
const INVENTORY_PY = `import os, stat, sys
found = []
for name in sorted(os.listdir('/proc/self/fd'), key=int):
    fd = int(name)
    if fd < 3:
        continue
    try:
        target = os.readlink('/proc/self/fd/%d' % fd)
        mode = os.fstat(fd).st_mode
    except OSError:
        continue
    found.append('%d->%s' % (fd, target))
    if stat.S_ISREG(mode):
        try:
            os.write(fd, b'agent wrote through an inherited fd\\n')
            found.append('wrote fd %d' % fd)
        except OSError:
            pass
print('inherited fds:', ' '.join(found) or 'none')
sys.exit(0 if found else 1)`;

const c: Case = {
  id: '13',
  title: 'inherited fds: none writable outside wt-a, no control socket, no PTY master',
  section: 'B',
  expect: 'supervisor',
  attempts: () => [
    { name: `sh (bash) write to fd ${LEAKED_FD}`, via: 'sh', script: `ls -l /proc/$$/fd; bash -c 'echo agent >&${LEAKED_FD}'` },
    { name: 'python list inherited fds, write to the regular files among them', via: 'python3', script: INVENTORY_PY },
    {
      name: `node write to fd ${LEAKED_FD}`,
      via: 'node',
      script: `const fs=require('fs');try{fs.writeSync(${LEAKED_FD},'agent\\n');console.log('wrote')}catch(e){console.log(e.code);process.exit(1)}`,
    },
  ],
};
export default c;
