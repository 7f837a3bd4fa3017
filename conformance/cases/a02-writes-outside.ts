import { join } from 'node:path';
import type { Case } from '../case.js';
import { lit, sh } from '../quoting.js';
import { contentWriteAttempts } from '../write-ops.js';

/** The same operations as case 1, aimed everywhere the agent must not write. */
const c: Case = {
  id: '02',
  title: 'the same operations on wt-b, main, $HOME, /etc and the state dir are denied',
  section: 'A',
  expect: 'content-writes',
  attempts: (s) => [
    ...contentWriteAttempts({ label: 'wt-b', dir: s.wtB, file: join(s.wtB, 'work.txt'), emptyDir: join(s.wtB, 'empty') }, '02'),
    ...contentWriteAttempts({ label: 'main', dir: s.main, file: join(s.main, 'notes.txt'), emptyDir: join(s.main, 'empty') }, '02'),
    ...contentWriteAttempts({ label: '$HOME', dir: s.home, file: join(s.home, 'canary.txt'), emptyDir: join(s.home, 'empty') }, '02'),
    ...contentWriteAttempts({ label: 'state dir', dir: s.paths.stateDir, file: s.files.policy, emptyDir: join(s.paths.stateDir, 'empty') }, '02'),
    // /etc is the real one: only new names are tried, never an existing file.
    { name: 'sh create /etc entry', via: 'sh', script: `: > ${sh(s.etcProbe)}` },
    { name: 'sh mkdir /etc entry', via: 'sh', script: `mkdir ${sh(`${s.etcProbe}-dir`)}` },
    { name: 'sh symlink in /etc', via: 'sh', script: `ln -s /bin/sh ${sh(`${s.etcProbe}-link`)}` },
    { name: 'node create /etc entry', via: 'node', script: `require('fs').writeFileSync(${lit(`${s.etcProbe}-node`)},'x',{flag:'wx'})` },
    { name: 'python create /etc entry', via: 'python3', script: `import os; os.close(os.open(${lit(`${s.etcProbe}-py`)}, os.O_CREAT | os.O_EXCL | os.O_WRONLY))` },
  ],
};
export default c;
