import { closeSync, lstatSync, readlinkSync } from 'node:fs';
import { sep } from 'node:path';
import { openDirNoFollow } from './tree-remove.js';
import { openRegularNoFollow } from './open-regular.js';

/** Links followed in one resolution before it is refused (the kernel's own limit is 40). */
const MAX_LINK_HOPS = 40;

/**
 * Open the regular file a link in an agent-writable tree leads to, by the unfenced host,
 * opening nothing else on the way. The link's text is resolved one component at a time
 * from held directory descriptors (`/proc/self/fd/<fd>/<name>`, Linux): each directory is
 * opened with O_DIRECTORY|O_NOFOLLOW, each link in the way is read (never followed by the
 * kernel), and only a name lstat calls a regular file is opened, and only if it still is
 * one (open-regular.ts: pinned with O_PATH, checked, then opened). A plain open following
 * the link would let the agent point it at a device whose mere open acts (a watchdog, a tape, another
 * terminal becoming the daemon's controlling one), or swap a directory on the way for a
 * link there while the host resolves it. Returns the descriptor, or why it was refused.
 *
 * `linkDir` is the directory holding the link, as a path the caller holds open
 * (`/proc/self/fd/<fd>`); `text` the link's text. With `within` (real paths), a file that
 * is not below one of them is refused (`outside`), unread: the host reads with its own
 * rights, and what it makes of the content can reach the agent (pinned submodule names
 * from a file the fence denies it, sysfs or proc files whose reads act).
 */
export function openRegularBehindLink(linkDir: string, text: string, within?: readonly string[]): { fd: number } | { refused: string; outside?: true } {
  const held: number[] = [];
  const hold = (fd: number) => {
    held.push(fd);
    return `/proc/self/fd/${fd}`;
  };
  try {
    let dir = linkDir;
    const pending = text.split('/');
    if (text.startsWith('/')) dir = hold(openRoot());
    let hops = 0;
    while (pending.length > 0) {
      const name = pending.shift()!;
      if (name === '' || name === '.') continue;
      const path = `${dir}/${name}`;
      const st = lstatSync(path, { throwIfNoEntry: false });
      if (!st) return { refused: `leads to nothing (${name} is missing)` };
      if (st.isSymbolicLink()) {
        if (++hops > MAX_LINK_HOPS) return { refused: `passes more than ${MAX_LINK_HOPS} links` };
        const next = readlinkSync(path);
        if (next.startsWith('/')) dir = hold(openRoot());
        pending.unshift(...next.split('/'));
        continue;
      }
      const last = pending.every((p) => p === '' || p === '.');
      if (st.isDirectory() || name === '..') {
        if (last) return { refused: 'leads to a directory' };
        const fd = openDirNoFollow(path);
        if (fd === undefined) return { refused: `changed while it was read (${name})` };
        dir = hold(fd);
        continue;
      }
      if (!last) return { refused: `leads through ${name}, which is not a directory` };
      if (!st.isFile()) return { refused: 'leads to something other than a regular file' };
      let fd: number | undefined;
      try {
        fd = openRegularNoFollow(path);
      } catch (e) {
        return { refused: `leads to a file that cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})` };
      }
      // Swapped since the lstat (a link, a FIFO): refused as it is now.
      if (fd === undefined) return { refused: 'leads to something other than a regular file' };
      if (within) {
        // Where the kernel says the open file is, not where the text seemed to lead.
        const at = readlinkSync(`/proc/self/fd/${fd}`);
        if (!within.some((root) => at === root || at.startsWith(root.endsWith(sep) ? root : root + sep))) {
          closeSync(fd);
          return { refused: `leads outside the task's worktree and git dirs (to ${at})`, outside: true };
        }
      }
      return { fd };
    }
    return { refused: 'leads to a directory' };
  } catch (e) {
    return { refused: `cannot be resolved (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})` };
  } finally {
    for (const fd of held) closeSync(fd);
  }
}

function openRoot(): number {
  const fd = openDirNoFollow('/');
  if (fd === undefined) throw new Error('/ cannot be opened');
  return fd;
}
