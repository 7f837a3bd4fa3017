import { closeSync, constants, fstatSync, lstatSync, openSync, readdirSync, readSync } from 'node:fs';
import { openDirNoFollow, procFdWorks } from './tree-remove.js';

/**
 * Reading the small files of a tree an agent can write (its git admin dir and refs), by
 * the unfenced host, without following a link the agent swaps in: directories are opened
 * with O_NOFOLLOW and their entries reached through `/proc/self/fd/<fd>/<name>`, as in
 * tree-remove.ts, and each file is opened with O_NOFOLLOW. A link is skipped, never read.
 * Where /proc is missing (macOS) it walks by path with lstat, which a swap mid-walk can beat.
 */
export interface ReadLimits {
  /** Entries at the top that are not read (`objects`). */
  skip?: ReadonlySet<string>;
  /** Files larger than this are skipped. */
  maxFileBytes: number;
  /** Deeper than this, the walk stops going down. */
  maxDepth: number;
}

export function readSmallFilesNoFollow(root: string, limits: ReadLimits, visit: (relPath: string, content: Buffer) => void): void {
  const viaFd = procFdWorks();
  const top = viaFd ? openDirNoFollow(root) : lstatSync(root, { throwIfNoEntry: false })?.isDirectory() ? -1 : undefined;
  if (top === undefined) return;
  try {
    walk(viaFd ? `/proc/self/fd/${top}` : root, '', 0);
  } finally {
    if (top >= 0) closeSync(top);
  }

  function walk(dir: string, rel: string, depth: number): void {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return;
    }
    for (const name of names) {
      if (depth === 0 && limits.skip?.has(name)) continue;
      const path = `${dir}/${name}`;
      const st = lstatSync(path, { throwIfNoEntry: false });
      if (!st) continue;
      const relPath = rel ? `${rel}/${name}` : name;
      if (st.isDirectory()) {
        if (depth >= limits.maxDepth) continue;
        if (!viaFd) {
          walk(path, relPath, depth + 1);
          continue;
        }
        const fd = openDirNoFollow(path);
        if (fd === undefined) continue;
        try {
          walk(`/proc/self/fd/${fd}`, relPath, depth + 1);
        } finally {
          closeSync(fd);
        }
      } else if (st.isFile() && st.size <= limits.maxFileBytes) {
        const content = readFileNoFollow(path, limits.maxFileBytes);
        if (content) visit(relPath, content);
      }
    }
  }
}

/** A regular file's content, opened without following a link; undefined for anything else or a larger file. */
export function readFileNoFollow(path: string, maxBytes: number): Buffer | undefined {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch {
    return undefined;
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile() || st.size > maxBytes) return undefined;
    const buf = Buffer.alloc(st.size);
    let got = 0;
    while (got < buf.length) {
      const n = readSync(fd, buf, got, buf.length - got, got);
      if (n === 0) break;
      got += n;
    }
    return buf.subarray(0, got);
  } finally {
    closeSync(fd);
  }
}
