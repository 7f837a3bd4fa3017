import { join } from 'node:path';
import type { Case } from '../case.js';
import { lit } from '../quoting.js';

/**
 * io_uring submits file operations from a kernel worker; it must meet the same fence
 * as the syscalls. Built with raw syscalls (425 io_uring_setup, 426 io_uring_enter are
 * the same number on every architecture) and the rings mapped by hand.
 */
const IO_URING_PY = String.raw`
import ctypes, mmap, os, struct, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
params = ctypes.create_string_buffer(120)
ring = libc.syscall(425, 8, params)
if ring < 0:
    print('io_uring_setup errno', ctypes.get_errno()); sys.exit(1)
sq_entries, cq_entries, flags, _, _, features = struct.unpack_from('6I', params, 0)
sq = struct.unpack_from('7I', params, 40)
cq = struct.unpack_from('7I', params, 80)
sq_head, sq_tail, sq_mask, _, _, _, sq_array = sq
cq_head, cq_tail, cq_mask, _, _, cq_cqes, _ = cq
sq_ring = mmap.mmap(ring, sq_array + sq_entries * 4, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE, offset=0)
cq_ring = mmap.mmap(ring, cq_cqes + cq_entries * 16, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE, offset=0x8000000)
sqes = mmap.mmap(ring, sq_entries * 64, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE, offset=0x10000000)
keep = []
def submit(opcode, fd, addr, length, op_flags, off=0, addr2=0):
    length &= 0xffffffff
    tail = struct.unpack_from('I', sq_ring, sq_tail)[0]
    idx = tail & sq_mask
    sqe = struct.pack('BBHiQQIIQHHiQQ', opcode, 0, 0, fd, off or addr2, addr, length, op_flags, 7, 0, 0, 0, 0, 0)
    sqes[idx * 64:(idx + 1) * 64] = sqe
    struct.pack_into('I', sq_ring, sq_array + idx * 4, idx)
    struct.pack_into('I', sq_ring, sq_tail, tail + 1)
    if libc.syscall(426, ring, 1, 1, 1, None, 0) < 0:
        return -ctypes.get_errno()
    head = struct.unpack_from('I', cq_ring, cq_head)[0]
    res = struct.unpack_from('Qi', cq_ring, cq_cqes + (head & cq_mask) * 16)[1]
    struct.pack_into('I', cq_ring, cq_head, head + 1)
    return res
def cstr(s):
    b = ctypes.create_string_buffer(s.encode()); keep.append(b); return ctypes.addressof(b)
AT_FDCWD = -100
ok = []
IORING_OP_OPENAT, IORING_OP_WRITE, IORING_OP_UNLINKAT, IORING_OP_MKDIRAT, IORING_OP_RENAMEAT = 18, 23, 36, 37, 35
fd = submit(IORING_OP_OPENAT, AT_FDCWD, cstr(TARGET_NEW), 0o644, os.O_CREAT | os.O_WRONLY)
if fd >= 0: ok.append('openat O_CREAT')
fd = submit(IORING_OP_OPENAT, AT_FDCWD, cstr(TARGET_FILE), 0, os.O_WRONLY | os.O_APPEND)
if fd >= 0:
    buf = ctypes.create_string_buffer(b'x'); keep.append(buf)
    if submit(IORING_OP_WRITE, fd, ctypes.addressof(buf), 1, 0, off=(1 << 64) - 1) > 0: ok.append('write')
if submit(IORING_OP_MKDIRAT, AT_FDCWD, cstr(TARGET_DIR), 0o755, 0) == 0: ok.append('mkdirat')
if submit(IORING_OP_RENAMEAT, AT_FDCWD, cstr(TARGET_FILE), AT_FDCWD, 0, addr2=cstr(TARGET_FILE + '.moved')) == 0: ok.append('renameat')
if submit(IORING_OP_UNLINKAT, AT_FDCWD, cstr(TARGET_UNLINK), 0, 0) == 0: ok.append('unlinkat')
print(' '.join(ok)); sys.exit(0 if ok else 1)
`;

const c: Case = {
  id: '12',
  title: 'io_uring file operations (openat, write, mkdirat, renameat, unlinkat) on wt-b',
  section: 'B',
  expect: 'content-writes',
  attempts: (s) => [
    {
      name: 'python io_uring ops on wt-b',
      via: 'python3',
      script: `TARGET_NEW = ${lit(join(s.wtB, 'conf-12-new'))}
TARGET_FILE = ${lit(join(s.wtB, 'work.txt'))}
TARGET_DIR = ${lit(join(s.wtB, 'conf-12-dir'))}
TARGET_UNLINK = ${lit(join(s.main, 'notes.txt'))}
${IO_URING_PY}`,
    },
  ],
};
export default c;
