import { join } from 'node:path';
import type { Case } from '../case.js';
import { metadataAttempts } from '../write-ops.js';

/** chmod, utime, setxattr, chown to self on files outside: invisible to content checks, caught by ctime. */
const c: Case = {
  id: '04',
  title: 'metadata outside: chmod, utime/touch -d, setxattr user.*, chown to self',
  section: 'A',
  expect: 'metadata-writes',
  attempts: (s) => [
    ...metadataAttempts(join(s.wtB, 'work.txt'), 'wt-b/work.txt'),
    ...metadataAttempts(join(s.home, 'canary.txt'), '~/canary.txt'),
    ...metadataAttempts(join(s.main, 'notes.txt'), 'main/notes.txt'),
  ],
};
export default c;
