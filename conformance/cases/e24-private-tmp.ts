import { join } from 'node:path';
import type { Case } from '../case.js';
import { lit, sh } from '../quoting.js';

/** Another agent's scratch files in the shared /tmp and /dev/shm, and its private tmp under Celistra's runtime dir. */
const c: Case = {
  id: '24',
  title: "/dev/shm and /tmp objects of another agent are absent (private tmp)",
  section: 'E',
  expect: 'private-tmp',
  attempts: (s) => {
    const secrets = [s.secrets.otherTmp];
    const tmpFile = join(s.sharedTmpDir, 'scratch.txt');
    return [
      { name: "sh cat the other agent's /tmp file", via: 'sh', script: `cat ${sh(tmpFile)}`, secrets },
      { name: "python read the other agent's /dev/shm object", via: 'python3', script: `print(open(${lit(s.sharedShmFile)}).read())`, secrets },
      { name: "node read the other agent's /tmp file", via: 'node', script: `process.stdout.write(require('fs').readFileSync(${lit(tmpFile)},'utf8'))`, secrets },
      { name: "sh write into the other agent's /tmp dir", via: 'sh', script: `echo x > ${sh(join(s.sharedTmpDir, 'conf-24'))}`, expect: 'content-writes' },
      { name: "python overwrite the other agent's /dev/shm object", via: 'python3', script: `open(${lit(s.sharedShmFile)}, 'w').write('x')`, expect: 'content-writes' },
      { name: "sh find /tmp and /dev/shm for the other agent's objects", via: 'sh', script: `grep -rs CELISTRA-SECRET /tmp/celistra-conf-${s.tag}-b /dev/shm 2>/dev/null`, secrets },
      {
        name: "sh read the other agent's private TMPDIR (under the runtime dir)",
        via: 'sh',
        script: `cat ${sh(join(s.otherAgentTmp, 'scratch.txt'))}`,
        secrets,
        expect: 'read-deny',
      },
    ];
  },
};
export default c;
