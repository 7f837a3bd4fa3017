import { closeSync, constants, fstatSync, mkdirSync, openSync, readSync, renameSync, unlinkSync, writeFileSync, type Dir } from 'node:fs';
import { removeTree } from '../fs/tree-remove.js';
import { opendir } from 'node:fs/promises';
import { join } from 'node:path';
import type { CelistraPaths } from '../policy/paths.js';
import { ensurePrivateDir } from '../fs/private-dir.js';
import { ANSWERS_DIR, MAX_REQUEST_BYTES, REQUEST_KEY, type ApprovalAnswer } from './protocol.js';

/**
 * One agent run's spool directory, on the host: `<runtime dir>/approvals/<run id>/`.
 *
 * The agent gets the directory as a writable root and `answers/` inside it as a
 * read-only carve-out; the rest of the runtime dir (other runs' spools, the control
 * socket) stays read-denied. The directory itself is a mount point (or, under Landlock,
 * a root whose parent is not writable), so the agent cannot rename or replace it, nor
 * `answers/`: the daemon's paths always mean what they meant when it made them. Inside
 * it, names are the agent's: every request file is opened without following links,
 * checked to be a regular file of bounded size, read once and unlinked.
 */
export interface RunSpool {
  dir: string;
  answersDir: string;
}

/** How many directory entries one sweep looks at: a directory flooded with names costs a bounded read per sweep. */
export const ENTRIES_PER_SWEEP = 256;

export function spoolRoot(paths: CelistraPaths): string {
  return join(paths.runtimeDir, 'approvals');
}

export function spoolFor(paths: CelistraPaths, runId: string): RunSpool {
  const dir = join(spoolRoot(paths), runId);
  return { dir, answersDir: join(dir, ANSWERS_DIR) };
}

/** Make a fresh spool for a run (whatever was left under its name goes first). */
export function createSpool(paths: CelistraPaths, runId: string): RunSpool {
  ensurePrivateDir(paths.runtimeDir);
  ensurePrivateDir(spoolRoot(paths));
  const spool = spoolFor(paths, runId);
  removeTree(spool.dir);
  mkdirSync(spool.dir, { mode: 0o700 });
  mkdirSync(spool.answersDir, { mode: 0o700 });
  return spool;
}

/**
 * rm -r of a directory the agent may still be changing: descriptor-relative and no-follow
 * (tree-remove.ts), since a path-based walk can be turned by a directory swapped for a
 * link mid-walk (issue 15, class 4).
 */
export function removeSpool(spool: RunSpool): void {
  removeTree(spool.dir);
}

/** A request file found in a sweep: its key (the name without `.json`) and its content, or why it was dropped. */
export type SpoolEntry = { key: string; text: string } | { name: string; dropped: string };

/**
 * Read up to ENTRIES_PER_SWEEP entries and take every request file among them. Files the
 * agent is still writing are dot-files (`.<key>.tmp`, renamed when complete) and are left;
 * anything else that is not a well-named regular file is removed and reported.
 */
export async function sweepSpool(spool: RunSpool): Promise<SpoolEntry[]> {
  const out: SpoolEntry[] = [];
  let dir: Dir;
  try {
    dir = await opendir(spool.dir);
  } catch {
    return out; // the run ended and its spool is gone
  }
  try {
    for (let i = 0; i < ENTRIES_PER_SWEEP; i++) {
      const entry = await dir.read();
      if (entry === null) break;
      const name = entry.name;
      if (name === ANSWERS_DIR || name.startsWith('.')) continue;
      const key = name.endsWith('.json') ? name.slice(0, -5) : '';
      const path = join(spool.dir, name);
      if (!REQUEST_KEY.test(key)) {
        out.push({ name, dropped: 'not a request file name (<key>.json, key of 8-64 of A-Z a-z 0-9 _ -)' });
        removeEntry(path);
        continue;
      }
      const read = readRequestFile(path);
      removeEntry(path);
      out.push(typeof read === 'string' ? { key, text: read } : { name, dropped: read.dropped });
    }
  } finally {
    await dir.close().catch(() => undefined);
  }
  return out;
}

/** O_NOFOLLOW: a symlink is refused, not read through; O_NONBLOCK: a FIFO does not hang the daemon. */
function readRequestFile(path: string): string | { dropped: string } {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (e) {
    return { dropped: `cannot open: ${(e as NodeJS.ErrnoException).code ?? 'error'}` };
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) return { dropped: 'not a regular file' };
    if (st.size > MAX_REQUEST_BYTES) return { dropped: `larger than ${MAX_REQUEST_BYTES} bytes` };
    const buf = Buffer.alloc(MAX_REQUEST_BYTES + 1);
    let n = 0;
    for (;;) {
      const got = readSync(fd, buf, n, buf.length - n, null);
      if (got === 0) break;
      n += got;
      if (n > MAX_REQUEST_BYTES) return { dropped: `larger than ${MAX_REQUEST_BYTES} bytes` };
    }
    return buf.subarray(0, n).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

/** Unlink a name in the agent's directory; a directory it made there is removed without following links. */
function removeEntry(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    removeTree(path);
  }
}

/**
 * Write an answer by write-then-rename inside `answers/`, which only the daemon can
 * write: the agent sees the old answer or the new one, never half of one.
 */
export function writeAnswer(spool: RunSpool, key: string, answer: ApprovalAnswer): void {
  if (!REQUEST_KEY.test(key)) return;
  const final = join(spool.answersDir, `${key}.json`);
  const tmp = join(spool.answersDir, `.${key}.tmp`);
  try {
    writeFileSync(tmp, `${JSON.stringify(answer)}\n`, { mode: 0o600 });
    renameSync(tmp, final);
  } catch {
    // The run ended and its spool was removed: nobody is waiting for this answer.
  }
}
