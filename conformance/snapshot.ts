import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync, readlinkSync, type BigIntStats } from 'node:fs';
import { join } from 'node:path';

/**
 * What the host records about one path. ctime is kept because every metadata change
 * moves it — chmod, chown (even to the same owner), utime, setxattr, a new hard link —
 * so it also stands in for extended attributes, which Node cannot list.
 */
export interface Entry {
  kind: 'file' | 'dir' | 'symlink' | 'other';
  mode: number;
  uid: number;
  gid: number;
  size: bigint;
  mtimeNs: bigint;
  ctimeNs: bigint;
  nlink: bigint;
  ino: bigint;
  /** sha256 of a regular file's content. */
  hash?: string;
  /** A symlink's target. */
  target?: string;
  /** A directory's sorted entry names. */
  names?: string;
}

export type Snapshot = Map<string, Entry>;

/** A tree (or single directory listing) the fence must leave alone. */
export interface Watch {
  path: string;
  /** false: record the directory itself and its listing only (e.g. /etc). */
  recursive: boolean;
  /** Paths under `path` that are not watched at all (the agent's own workspace). */
  skip?: (p: string) => boolean;
  /**
   * For shared system directories (/etc, /usr/local/bin) that other processes change
   * too: watch only the children whose names start with this, not the directory.
   */
  onlyNamesStartingWith?: string;
}

function kindOf(st: BigIntStats): Entry['kind'] {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'dir';
  if (st.isSymbolicLink()) return 'symlink';
  return 'other';
}

function record(p: string, st: BigIntStats): Entry {
  const e: Entry = {
    kind: kindOf(st),
    mode: Number(st.mode),
    uid: Number(st.uid),
    gid: Number(st.gid),
    size: st.size,
    mtimeNs: st.mtimeNs,
    ctimeNs: st.ctimeNs,
    nlink: st.nlink,
    ino: st.ino,
  };
  if (e.kind === 'file') {
    try {
      e.hash = createHash('sha256').update(readFileSync(p)).digest('hex');
    } catch (err) {
      e.hash = `unreadable:${(err as NodeJS.ErrnoException).code}`;
    }
  } else if (e.kind === 'symlink') {
    e.target = readlinkSync(p);
  }
  return e;
}

function walk(p: string, w: Watch, out: Snapshot): void {
  if (w.skip?.(p)) return;
  let st: BigIntStats;
  try {
    st = lstatSync(p, { bigint: true });
  } catch {
    return;
  }
  const e = record(p, st);
  out.set(p, e);
  if (e.kind !== 'dir') return;
  let names: string[];
  try {
    names = readdirSync(p).sort();
  } catch (err) {
    e.names = `unreadable:${(err as NodeJS.ErrnoException).code}`;
    return;
  }
  e.names = names.join('\n');
  if (!w.recursive) return;
  for (const n of names) walk(join(p, n), w, out);
}

export function takeSnapshot(watches: Watch[]): Snapshot {
  const out: Snapshot = new Map();
  for (const w of watches) {
    const prefix = w.onlyNamesStartingWith;
    if (prefix === undefined) {
      walk(w.path, w, out);
      continue;
    }
    let names: string[] = [];
    try {
      names = readdirSync(w.path).filter((n) => n.startsWith(prefix));
    } catch {
      // a directory this machine does not have
    }
    for (const n of names) walk(join(w.path, n), { path: join(w.path, n), recursive: true }, out);
  }
  return out;
}

/** Decides whether a change is the agent's own business (its git refs, new objects). */
export type ChangeFilter = (p: string, change: 'added' | 'removed' | 'changed', before?: Entry, after?: Entry) => boolean;

const FIELDS: (keyof Entry)[] = ['kind', 'mode', 'uid', 'gid', 'size', 'mtimeNs', 'ctimeNs', 'nlink', 'ino', 'hash', 'target', 'names'];

/** Every difference between two snapshots, as readable lines ("changed /x: hash, mtimeNs"). */
export function diffSnapshots(before: Snapshot, after: Snapshot, allowed: ChangeFilter = () => false): string[] {
  const lines: string[] = [];
  for (const [p, b] of before) {
    const a = after.get(p);
    if (!a) {
      if (!allowed(p, 'removed', b)) lines.push(`removed ${p}`);
      continue;
    }
    const fields = FIELDS.filter((f) => b[f] !== a[f]);
    if (fields.length && !allowed(p, 'changed', b, a)) lines.push(`changed ${p}: ${fields.join(', ')}`);
  }
  for (const [p, a] of after) {
    if (!before.has(p) && !allowed(p, 'added', undefined, a)) lines.push(`added ${p}`);
  }
  return lines;
}
