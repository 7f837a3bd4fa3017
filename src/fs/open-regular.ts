import { closeSync, constants, fstatSync, openSync } from 'node:fs';
import { procFdWorks } from './tree-remove.js';

/**
 * Linux's O_PATH (asm-generic: x86-64, arm64): a descriptor that names an inode without
 * opening it, so no device's or FIFO's open runs. Node does not export it.
 */
const O_PATH = 0o10000000;

/**
 * Open for reading the regular file at `path` in a tree the agent writes, without following
 * a link, and without opening anything that is not a regular file — even when the agent
 * swaps the name between a check and this call (renameat2 exchange with a FIFO: opened,
 * its writer goes on). On Linux the name is first pinned with O_PATH (which opens nothing),
 * checked there with fstat, and only then opened through `/proc/self/fd/<fd>`, which reaches
 * that same inode whatever the name is by then. Elsewhere the open itself is checked
 * (O_NOFOLLOW, without waiting, never as a controlling terminal), which a FIFO swapped in
 * can still see opened. Returns the descriptor, or undefined for a link, nothing, or
 * anything but a regular file; other failures (EACCES) are thrown.
 */
export function openRegularNoFollow(path: string): number | undefined {
  const read = constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY;
  let fd: number;
  try {
    fd = openSync(path, procFdWorks() ? O_PATH | constants.O_NOFOLLOW : read | constants.O_NOFOLLOW);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ELOOP' || code === 'ENOENT') return undefined;
    throw e;
  }
  try {
    if (!fstatSync(fd).isFile()) return undefined;
    if (!procFdWorks()) {
      const opened = fd;
      fd = -1;
      return opened;
    }
    return openSync(`/proc/self/fd/${fd}`, read);
  } finally {
    if (fd >= 0) closeSync(fd);
  }
}
