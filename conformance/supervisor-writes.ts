import Database from 'better-sqlite3';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spoolDir } from '../src/audit/spool.js';
import { leasesRoot } from '../src/worktree/lease.js';
import type { Stage } from './stage.js';

/**
 * What Celistra itself writes in its state dir while a case runs: the audit log, the
 * audit spool `celistra run` appends to (src/audit/spool.ts), the V8 code cache
 * of the run bundle (src/cli/run-loader.ts), and the leases runs take on task worktrees
 * (src/worktree/lease.ts). Those writes are the supervisor's, never the
 * agent's (the state dir is read-denied and outside every writable root), so the judge
 * must not blame an attempt for them.
 */
export function isSupervisorWrite(stage: Stage, path: string, change: string): boolean {
  const state = stage.paths.stateDir;
  if (path === state) return change === 'changed';
  const own = [join(state, 'audit.db'), spoolDir(state), join(state, 'code-cache'), leasesRoot(state)];
  return own.some((o) => path === o || path.startsWith(`${o}-`) || path.startsWith(`${o}/`));
}

/** `spawn` events recorded so far, chained or still in the spool. */
export function spawnsRecorded(stage: Stage): number {
  return spawnsInDatabase(join(stage.paths.stateDir, 'audit.db')) + spawnsInSpool(spoolDir(stage.paths.stateDir));
}

/** A fingerprint of the supervisor's files: equal twice in a row means it has stopped writing. */
export function supervisorFilesStamp(stage: Stage): string {
  const db = join(stage.paths.stateDir, 'audit.db');
  const leases = leasesRoot(stage.paths.stateDir);
  const files = [db, `${db}-wal`, `${db}-shm`, ...listing(spoolDir(stage.paths.stateDir)), ...listing(join(stage.paths.stateDir, 'code-cache')), leases, ...listing(leases).flatMap((d) => [d, ...listing(d)])];
  return files.map((f) => `${f}:${statSync(f, { throwIfNoEntry: false })?.mtimeMs ?? 0}`).join(',');
}

function listing(dir: string): string[] {
  try {
    return readdirSync(dir).map((n) => join(dir, n));
  } catch {
    return [];
  }
}

function spawnsInDatabase(db: string): number {
  if (!existsSync(db)) return 0;
  try {
    const conn = new Database(db, { readonly: true, fileMustExist: true });
    try {
      return (conn.prepare("SELECT count(*) AS n FROM events WHERE type = 'spawn'").get() as { n: number }).n;
    } finally {
      conn.close();
    }
  } catch {
    return 0;
  }
}

function spawnsInSpool(dir: string): number {
  let n = 0;
  for (const file of listing(dir)) {
    try {
      n += readFileSync(file, 'utf8').split('\n').filter((l) => l.includes('"type":"spawn"')).length;
    } catch {
      // Taken into the database meanwhile: counted there.
    }
  }
  return n;
}
