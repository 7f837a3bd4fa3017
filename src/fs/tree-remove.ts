import { closeSync, constants, existsSync, fstatSync, lstatSync, openSync, readdirSync, rmdirSync, rmSync, unlinkSync } from 'node:fs';
import { CelistraError } from '../policy/errors.js';

/**
 * Recursive removal of a tree an agent can write (a worktree, a shadow git dir, a private
 * tmp), by the unfenced host, that never follows a link the agent swaps in mid-walk.
 *
 * A path-based walk (Node's rmSync, rm -rf) checks an entry, then opens it by its path: an
 * agent still running can replace a subdirectory with a symlink between the two (rename
 * exchange in a loop), and the walk then deletes files wherever the link points. Here
 * every step works relative to a directory this process holds open: each directory is
 * opened with O_NOFOLLOW | O_DIRECTORY, and its entries are reached as
 * `/proc/self/fd/<fd>/<name>`, a path the kernel resolves through the descriptor (the
 * directory we opened, wherever it now is), not through the names above it. A swapped-in
 * symlink then fails the O_NOFOLLOW open (ELOOP/ENOTDIR) and is itself unlinked, which
 * removes the link, never its target. Node has no unlinkat/openat; /proc gives the same
 * guarantee on Linux. Elsewhere (macOS, where /proc does not exist) this falls back to
 * rmSync — say so where it matters (docs/security.md).
 */
export function removeTree(root: string): void {
  const st = lstatSync(root, { throwIfNoEntry: false });
  if (!st) return;
  if (!st.isDirectory()) {
    unlinkSync(root);
    return;
  }
  if (!procFdWorks()) {
    rmSync(root, { recursive: true, force: true });
    return;
  }
  const fd = openDirNoFollow(root);
  if (fd === undefined) {
    unlinkSync(root);
    return;
  }
  try {
    emptyDir(fd, 0);
  } finally {
    closeSync(fd);
  }
  rmdirSync(root);
}

/**
 * Unlink the file `rel` (slash-separated) under `root`, reaching it through directories
 * opened without following links: a directory on the way that the agent swapped for a
 * symlink (even between a check and this call) stops the walk, and nothing is removed.
 * Returns whether a file was removed. Without /proc (macOS) every step is checked with
 * lstat first, which a swap in between can beat.
 */
export function unlinkBeneath(root: string, rel: string): boolean {
  const parts = rel.split('/');
  const name = parts.pop()!;
  if (!procFdWorks()) {
    let dir = root;
    for (const p of parts) {
      dir = `${dir}/${p}`;
      if (!lstatSync(dir, { throwIfNoEntry: false })?.isDirectory()) return false;
    }
    const st = lstatSync(`${dir}/${name}`, { throwIfNoEntry: false });
    if (!st || st.isDirectory()) return false;
    unlinkQuiet(`${dir}/${name}`);
    return true;
  }
  let fd = openDirNoFollow(root);
  try {
    for (const p of parts) {
      if (fd === undefined) return false;
      const next = openDirNoFollow(`/proc/self/fd/${fd}/${p}`);
      closeSync(fd);
      fd = next;
    }
    if (fd === undefined) return false;
    const entry = `/proc/self/fd/${fd}/${name}`;
    const st = lstatSync(entry, { throwIfNoEntry: false });
    if (!st || st.isDirectory()) return false;
    unlinkQuiet(entry);
    return true;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Deeper than this, the tree is an attack or an accident: refuse rather than exhaust descriptors. */
const MAX_DEPTH = 256;

function emptyDir(fd: number, depth: number): void {
  if (depth > MAX_DEPTH) throw new CelistraError('E_WORKSPACE', `a directory tree more than ${MAX_DEPTH} levels deep was not removed`, 'remove it by hand');
  const here = `/proc/self/fd/${fd}`;
  for (const name of readdirSync(here)) {
    const entry = `${here}/${name}`;
    const st = lstatSync(entry, { throwIfNoEntry: false });
    if (!st) continue;
    if (!st.isDirectory()) {
      unlinkQuiet(entry);
      continue;
    }
    const child = openDirNoFollow(entry);
    if (child === undefined) {
      // Swapped for a link (or a file) since the lstat: remove that entry itself.
      unlinkQuiet(entry);
      continue;
    }
    try {
      emptyDir(child, depth + 1);
    } finally {
      closeSync(child);
    }
    try {
      rmdirSync(entry);
    } catch (e) {
      // The agent put something new there meanwhile: not ours to chase; the caller's rmdir reports it.
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
  }
}

/** The directory at `path`, opened without following a link there (undefined: not a directory now). */
export function openDirNoFollow(path: string): number | undefined {
  try {
    const fd = openSync(path, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
    if (!fstatSync(fd).isDirectory()) {
      closeSync(fd);
      return undefined;
    }
    return fd;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ELOOP' || code === 'ENOTDIR' || code === 'ENOENT') return undefined;
    throw e;
  }
}

function unlinkQuiet(path: string): void {
  try {
    unlinkSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
}

let procFd: boolean | undefined;
/** Linux's /proc/self/fd, through which a path resolves relative to a descriptor we hold. */
export function procFdWorks(): boolean {
  procFd ??= process.platform === 'linux' && existsSync('/proc/self/fd');
  return procFd;
}
