import { join } from 'node:path';
import type { Case } from '../case.js';
import { lit } from '../quoting.js';

/** Path-less access: an O_PATH fd linked back into the tree, and file handles that skip path resolution. */
const c: Case = {
  id: '11',
  title: 'O_PATH + linkat(AT_EMPTY_PATH), /proc/self/fd link, open_by_handle_at',
  section: 'B',
  expect: 'content-writes',
  attempts: (s) => {
    const work = join(s.wtB, 'work.txt');
    return [
      {
        name: 'python O_PATH fd of wt-b/work.txt, linkat(AT_EMPTY_PATH) into wt-a, append',
        via: 'python3',
        script: `import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
AT_FDCWD, AT_EMPTY_PATH, AT_SYMLINK_FOLLOW = -100, 0x1000, 0x400
ok = []
fd = os.open(${lit(work)}, os.O_PATH)
if libc.linkat(fd, b'', AT_FDCWD, b'conf-11-empty-path', AT_EMPTY_PATH) == 0:
    ok.append('linkat AT_EMPTY_PATH')
    try:
        open('conf-11-empty-path', 'a').write('x'); ok.append('append')
    except OSError:
        pass
if libc.linkat(AT_FDCWD, ('/proc/self/fd/%d' % fd).encode(), AT_FDCWD, b'conf-11-proc-link', AT_SYMLINK_FOLLOW) == 0:
    ok.append('linkat /proc/self/fd')
    try:
        open('conf-11-proc-link', 'a').write('x'); ok.append('append')
    except OSError:
        pass
print(' '.join(ok), 'errno', ctypes.get_errno()); sys.exit(0 if ok else 1)`,
      },
      {
        name: 'python name_to_handle_at + open_by_handle_at(O_WRONLY) on wt-b/work.txt',
        via: 'python3',
        script: `import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
AT_FDCWD = -100
class FH(ctypes.Structure):
    _fields_ = [('handle_bytes', ctypes.c_uint), ('handle_type', ctypes.c_int), ('f_handle', ctypes.c_ubyte * 128)]
h = FH(); h.handle_bytes = 128
mount_id = ctypes.c_int()
if libc.name_to_handle_at(AT_FDCWD, ${lit(work)}.encode(), ctypes.byref(h), ctypes.byref(mount_id), 0) != 0:
    print('name_to_handle_at errno', ctypes.get_errno()); sys.exit(1)
mfd = os.open(${lit(s.wtB)}, os.O_RDONLY | os.O_DIRECTORY)
fd = libc.open_by_handle_at(mfd, ctypes.byref(h), os.O_WRONLY | os.O_APPEND)
if fd < 0:
    print('open_by_handle_at errno', ctypes.get_errno()); sys.exit(1)
os.write(fd, b'x'); print('wrote through a handle')`,
      },
    ];
  },
};
export default c;
