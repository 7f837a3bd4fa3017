import { existsSync, readdirSync, readFileSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { canonicalJson } from './canonical.js';
import { isAuditEventType, type LossData } from './events.js';
import type { ChainRow } from './hash-chain.js';
import { DONE_SUFFIX, OPEN_SUFFIX, spoolDir, spoolKey, spoolWriterPid, type SpooledEvent } from './spool.js';
import type { AuditStore, PendingEvent } from './store.js';

/** meta key prefix: how many bytes of a spool file are already in the chain. */
const PROGRESS_KEY_PREFIX = 'spool:';

/**
 * Move spooled events (spool.ts) into the hash chain. Each file is taken inside one
 * BEGIN IMMEDIATE transaction that appends its new whole lines and records how many
 * bytes are in, so two processes taking the spool at once never chain a line twice and
 * a crash between the two loses nothing. A finished file is removed once fully taken;
 * its progress row goes after the file, so it is never re-read from the start.
 *
 * Throws what SQLite throws (busy, corrupt): the caller's usual retry and recovery apply,
 * and the spool simply stays for the next attempt. Returns the rows appended.
 */
export function takeSpool(store: AuditStore, stateDir: string): ChainRow[] {
  const dir = spoolDir(stateDir);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return []; // no spool yet
  }
  const files = names.filter((n) => spoolWriterPid(n) !== undefined).sort();
  const rows: ChainRow[] = [];
  for (const name of files) rows.push(...takeFile(store, dir, name));
  forgetProgressWithoutFile(store, dir);
  return rows;
}

/** How many finished files wait in the spool (a cheap readdir; 0 when there is none). */
export function finishedSpoolFiles(stateDir: string): number {
  try {
    return readdirSync(spoolDir(stateDir)).filter((n) => n.endsWith(DONE_SUFFIX)).length;
  } catch {
    return 0;
  }
}

function takeFile(store: AuditStore, dir: string, name: string): ChainRow[] {
  const key = PROGRESS_KEY_PREFIX + spoolKey(name);
  const path = join(dir, name);
  const finished = name.endsWith(DONE_SUFFIX) || (name.endsWith(OPEN_SUFFIX) && !writerAlive(spoolWriterPid(name)!));
  let fullyTaken = false;
  const rows = store.db
    .transaction((): ChainRow[] => {
      const offset = Number(store.getMeta(key) ?? 0);
      let content: Buffer;
      try {
        content = readFileSync(path);
      } catch {
        return []; // renamed to .done or removed by another taker since the listing
      }
      const rest = content.subarray(offset);
      const end = rest.lastIndexOf(0x0a) + 1;
      const { events, unreadable } = parseLines(rest.subarray(0, end).toString('utf8'));
      // A writer that died mid-line left a torn last line: it is no event, but it is counted.
      const torn = finished && end < rest.length ? 1 : 0;
      if (unreadable + torn > 0) events.push(lossEvent(name, unreadable + torn, events));
      const taken = torn ? rest.length : end;
      const appended = store.appendLocked(events);
      if (taken > 0) store.setMeta(key, String(offset + taken));
      fullyTaken = finished && offset + taken === content.length;
      return appended;
    })
    .immediate();
  if (fullyTaken) {
    try {
      unlinkSync(path);
      store.db.prepare('DELETE FROM meta WHERE key = ?').run(key);
    } catch {
      // Another taker removed it first, or the delete will happen on the next intake.
    }
  }
  return rows;
}

function parseLines(text: string): { events: PendingEvent[]; unreadable: number } {
  const events: PendingEvent[] = [];
  let unreadable = 0;
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const e = parseEvent(line);
    if (e) events.push(e);
    else unreadable++;
  }
  return { events, unreadable };
}

/** A line is chained only if it is exactly what AuditSpool writes; anything else is counted as lost. */
function parseEvent(line: string): PendingEvent | undefined {
  let v: Partial<SpooledEvent>;
  try {
    v = JSON.parse(line) as Partial<SpooledEvent>;
  } catch {
    return undefined;
  }
  if (typeof v !== 'object' || v === null) return undefined;
  if (typeof v.ts !== 'number' || !Number.isFinite(v.ts)) return undefined;
  if (typeof v.type !== 'string' || !isAuditEventType(v.type)) return undefined;
  if (v.agent !== null && typeof v.agent !== 'string') return undefined;
  if (typeof v.data !== 'string') return undefined;
  try {
    // Re-canonicalised, so a hand-edited line cannot smuggle in a non-canonical form.
    const data = canonicalJson(JSON.parse(v.data));
    return { ts: v.ts, type: v.type, agent: v.agent, data };
  } catch {
    return undefined;
  }
}

function lossEvent(name: string, dropped: number, events: PendingEvent[]): PendingEvent {
  const ts = events.length > 0 ? events[events.length - 1]!.ts : Date.now();
  const data: LossData = { dropped, reason: `unreadable line(s) in the audit spool file ${name}`, firstDroppedTs: ts, lastDroppedTs: ts };
  return { ts, type: 'loss', agent: null, data: canonicalJson(data) };
}

/**
 * Progress rows whose file is gone (fully taken by a process that died before removing
 * the row). Checked on disk now, not against the listing: a file created after it may
 * already have progress recorded by another taker. Spool names are never reused.
 */
function forgetProgressWithoutFile(store: AuditStore, dir: string): void {
  const keys = store.db.prepare("SELECT key FROM meta WHERE key LIKE 'spool:%'").pluck().all() as string[];
  for (const key of keys) {
    const base = key.slice(PROGRESS_KEY_PREFIX.length);
    if (existsSync(join(dir, base + OPEN_SUFFIX)) || existsSync(join(dir, base + DONE_SUFFIX))) continue;
    store.db.prepare('DELETE FROM meta WHERE key = ?').run(key);
  }
}

function writerAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    // ESRCH: gone. EPERM: the pid now belongs to another user's process, so our writer
    // is gone too (the state dir is 0700: only this user writes the spool).
    return false;
  }
}
