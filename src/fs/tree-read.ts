import { closeSync, fstatSync, lstatSync, opendirSync, readlinkSync, readSync, type Dir } from 'node:fs';
import { openDirNoFollow, procFdWorks } from './tree-remove.js';
import { openRegularBehindLink } from './link-target.js';
import { openRegularNoFollow } from './open-regular.js';

/**
 * Reading the small files of a tree an agent can write (its git admin dir and refs), by
 * the unfenced host, without following a link the agent swaps in: directories are opened
 * with O_NOFOLLOW and their entries reached through `/proc/self/fd/<fd>/<name>`, as in
 * tree-remove.ts, and each file is opened with O_NOFOLLOW. A link is skipped unless the
 * caller's `onLink` asks for it to be read as the program the tree is for would (git reads
 * a loose ref through a link): then only a regular file behind it is opened and read,
 * within the same bounds, and anything else there fails the walk.
 * Where /proc is missing (macOS) it walks by path with lstat, which a swap mid-walk can beat.
 *
 * The walk is bounded, and its bounds fail closed: the agent can plant thousands of big
 * (or sparse: no disk) files, and what reads them is every host command on its task. A
 * tree that does not fit (too many entries, too many bytes in all, one file too big, too
 * deep) or that cannot be read (a directory or file the agent made unreadable) throws
 * IncompleteRead naming the path and the bound, before reading past it: a caller that
 * must see every file (the submodule pins) never goes on with a part.
 */
export interface ReadLimits {
  /** Entries at the top that are not read (`objects`). */
  skip?: ReadonlySet<string>;
  /** A regular file larger than this fails the walk. */
  maxFileBytes: number;
  /** A directory deeper than this fails the walk. */
  maxDepth: number;
  /** The total the walks sharing it may read; going past it fails the walk. */
  budget: ReadBudget;
  /** Each symbolic link met, by its text: 'read' reads the regular file it leads to as if it were there. Without it links are skipped. */
  onLink?: (target: string) => 'skip' | 'read';
  /** Real paths a link read through must lead below (link-target.ts `within`); anything else fails the walk. */
  linkTargetsWithin?: readonly string[];
}

/** Entries seen and bytes read by the walks that share it (those of one scan), and their bounds. */
export class ReadBudget {
  entries = 0;
  bytes = 0;
  constructor(
    readonly maxEntries: number,
    readonly maxBytes: number,
  ) {}
}

/** The walk stopped without reading all of the tree: `path` is where, `reason` why (the bound it would pass). */
export class IncompleteRead extends Error {
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super(`${path} ${reason}`);
    this.name = 'IncompleteRead';
  }
}

const MiB = 1024 * 1024;
/** A byte count as the bounds are said (64 MiB). */
export function sizeText(bytes: number): string {
  return bytes >= MiB && bytes % MiB === 0 ? `${bytes / MiB} MiB` : `${bytes} bytes`;
}

export function readSmallFilesNoFollow(root: string, limits: ReadLimits, visit: (relPath: string, content: Buffer) => void): void {
  const viaFd = procFdWorks();
  const top = viaFd ? openDir(root) : lstatSync(root, { throwIfNoEntry: false })?.isDirectory() ? -1 : undefined;
  if (top === undefined) return;
  const budget = limits.budget;
  try {
    walk(viaFd ? `/proc/self/fd/${top}` : root, '', 0);
  } finally {
    if (top >= 0) closeSync(top);
  }

  function walk(dir: string, rel: string, depth: number): void {
    const shown = rel ? `${root}/${rel}` : root;
    let handle: Dir;
    try {
      handle = opendirSync(dir);
    } catch (e) {
      throw new IncompleteRead(shown, `cannot be listed (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
    try {
      // One entry at a time: a directory of millions of names stops at the bound, unread.
      for (let entry = handle.readSync(); entry; entry = handle.readSync()) {
        const name = entry.name;
        if (depth === 0 && limits.skip?.has(name)) continue;
        const relPath = rel ? `${rel}/${name}` : name;
        if (++budget.entries > budget.maxEntries) throw new IncompleteRead(`${root}/${relPath}`, `is past the ${budget.maxEntries} entries the scan reads in all`);
        visitEntry(dir, name, relPath, depth);
      }
    } finally {
      handle.closeSync();
    }
  }

  function visitEntry(dir: string, name: string, relPath: string, depth: number): void {
    const path = `${dir}/${name}`;
    const shown = `${root}/${relPath}`;
    const st = lstatSync(path, { throwIfNoEntry: false });
    if (!st) return;
    if (st.isDirectory()) {
      if (depth >= limits.maxDepth) throw new IncompleteRead(shown, `is deeper than the ${limits.maxDepth} levels the scan reads`);
      if (!viaFd) return walk(path, relPath, depth + 1);
      const fd = openDir(path, shown);
      if (fd === undefined) return;
      try {
        walk(`/proc/self/fd/${fd}`, relPath, depth + 1);
      } finally {
        closeSync(fd);
      }
    } else if (st.isFile()) {
      const content = readBoundedFile(path, shown, limits.maxFileBytes, budget);
      if (content) visit(relPath, content);
    } else if (st.isSymbolicLink() && limits.onLink) {
      let target: string;
      try {
        target = readlinkSync(path);
      } catch {
        return; // gone (swapped) since the lstat
      }
      if (limits.onLink(target) === 'skip') return;
      // Where /proc is missing the link cannot be resolved without following it: refused.
      if (!viaFd) throw new IncompleteRead(shown, `is a link (to ${JSON.stringify(target)}), read only where /proc/self/fd is (Linux)`);
      visit(relPath, readThroughLink(dir, shown, target, limits, budget));
    }
  }
}

/** A directory opened without following a link (undefined: a link or gone); one that cannot be opened fails the walk. */
function openDir(path: string, shown = path): number | undefined {
  try {
    return openDirNoFollow(path);
  } catch (e) {
    throw new IncompleteRead(shown, `cannot be opened (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

/**
 * A regular file's content, opened without following a link: undefined when it is a link
 * or gone by now (swapped mid-walk). A file that cannot be opened, or whose size (as
 * opened: not read yet) passes the file's or the budget's bound, fails the walk.
 */
function readBoundedFile(path: string, shown: string, maxBytes: number, budget: ReadBudget): Buffer | undefined {
  let fd: number | undefined;
  try {
    fd = openRegularNoFollow(path);
  } catch (e) {
    throw new IncompleteRead(shown, `cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  if (fd === undefined) return undefined;
  return readWithinBounds(fd, shown, 'is', maxBytes, budget);
}

/**
 * The regular file a link leads to, resolved without opening anything else on the way
 * (link-target.ts), read within the same bounds. A link to a directory, to nothing, or
 * to anything but a regular file fails the walk: what the program the tree is for would
 * make of it cannot be read here (a directory of refs elsewhere, a file that appears later).
 */
function readThroughLink(linkDir: string, shown: string, target: string, limits: ReadLimits, budget: ReadBudget): Buffer {
  const opened = openRegularBehindLink(linkDir, target, limits.linkTargetsWithin);
  if ('refused' in opened) throw new IncompleteRead(shown, `is a link (to ${JSON.stringify(target)}) that ${opened.refused}`);
  return readWithinBounds(opened.fd, shown, 'leads to a file', limits.maxFileBytes, budget);
}

/**
 * The content of an open regular file, then closed: its size (as opened, not read yet)
 * is checked against the file's and the budget's bound first. `subject` words the refusal
 * ("is" larger, or "leads to a file" larger, for a link).
 */
function readWithinBounds(fd: number, shown: string, subject: string, maxBytes: number, budget: ReadBudget): Buffer {
  try {
    const size = fstatSync(fd).size;
    if (size > maxBytes) throw new IncompleteRead(shown, `${subject} larger than the ${sizeText(maxBytes)} the scan reads of one file (${size} bytes)`);
    if (budget.bytes + size > budget.maxBytes) throw new IncompleteRead(shown, `is past the ${sizeText(budget.maxBytes)} the scan reads in all`);
    budget.bytes += size;
    return readAll(fd, size);
  } finally {
    closeSync(fd);
  }
}

function readAll(fd: number, size: number): Buffer {
  const buf = Buffer.alloc(size);
  let got = 0;
  while (got < buf.length) {
    const n = readSync(fd, buf, got, buf.length - got, got);
    if (n === 0) break;
    got += n;
  }
  return buf.subarray(0, got);
}

/** A regular file's content, opened without following a link; undefined for anything else or a larger file. */
export function readFileNoFollow(path: string, maxBytes: number): Buffer | undefined {
  let fd: number | undefined;
  try {
    fd = openRegularNoFollow(path);
  } catch {
    return undefined;
  }
  if (fd === undefined) return undefined;
  try {
    const size = fstatSync(fd).size;
    if (size > maxBytes) return undefined;
    return readAll(fd, size);
  } finally {
    closeSync(fd);
  }
}
