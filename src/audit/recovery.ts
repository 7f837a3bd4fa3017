import { existsSync, renameSync, statSync } from 'node:fs';

/**
 * What a failure to use the database means for the events waiting to be written:
 * - `corrupt`: the file is not a readable SQLite database; waiting will not help, so it
 *   is moved aside and a fresh one started;
 * - `transient`: busy/locked, disk full, I/O or permission trouble; keep the events in
 *   memory and try again later.
 */
export type FailureKind = 'corrupt' | 'transient';

export function classifyFailure(e: unknown): FailureKind {
  const code = (e as { code?: unknown })?.code;
  if (typeof code === 'string' && (code.startsWith('SQLITE_CORRUPT') || code.startsWith('SQLITE_NOTADB'))) return 'corrupt';
  return 'transient';
}

/** Identity of the file we found unreadable, so we never move a fresh one by mistake. */
export function fileIdentity(path: string): string | undefined {
  try {
    const s = statSync(path);
    return `${s.dev}:${s.ino}`;
  } catch {
    return undefined;
  }
}

/**
 * Move an unreadable database, with its -wal and -shm files, to
 * `<path>.corrupt-<timestamp>` (and `-wal`/`-shm` beside it). Nothing is deleted: the
 * old file stays for forensics. The WAL has to move with it, or SQLite would replay it
 * into the fresh database.
 *
 * Returns undefined when the file is no longer the one we found unreadable: another
 * process has already moved it and started a fresh one.
 */
export function moveAside(path: string, identity: string | undefined, now: number): string | undefined {
  if (identity === undefined || fileIdentity(path) !== identity) return undefined;
  const stamp = new Date(now).toISOString().replace(/[:.]/g, '-');
  let target = `${path}.corrupt-${stamp}`;
  for (let n = 1; existsSync(target); n++) target = `${path}.corrupt-${stamp}-${n}`;
  renameSync(path, target);
  for (const suffix of ['-wal', '-shm']) {
    if (existsSync(path + suffix)) renameSync(path + suffix, target + suffix);
  }
  return target;
}
