import { closeSync, mkdirSync, openSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { canonicalJson } from './canonical.js';
import type { AuditEventInput } from './events.js';
import { redactEventData } from './redaction.js';

/**
 * The audit spool: how a short-lived writer (`celistra run`) records events without
 * opening SQLite. Loading the SQLite addon, opening the database in WAL mode and
 * committing a hash-chained row cost 10–25 ms per run, more than everything else
 * Celistra adds to a fenced command (docs/benchmarks/run-overhead.md). Appending a line
 * to a file costs a few microseconds.
 *
 * Each writer owns one file, `<stateDir>/audit-spool/<ts>-<pid>-<random>.open`, one JSON
 * line per event (already redacted, data in canonical JSON), and renames it to `.done`
 * when it has written its last event. Whoever opens the audit log next (the daemon,
 * `history`, `audit verify`, or a later `run` once enough files wait) moves the lines
 * into the hash chain, in order, exactly once (spool-intake.ts). An `.open` file whose
 * writer died is taken as finished.
 *
 * Until then the events are outside the chain, in Celistra's state directory: fenced
 * agents cannot write there (only their workspace), as for the database itself.
 */
export const SPOOL_DIR_NAME = 'audit-spool';
export const OPEN_SUFFIX = '.open';
export const DONE_SUFFIX = '.done';

export function spoolDir(stateDir: string): string {
  return join(stateDir, SPOOL_DIR_NAME);
}

/** One spooled event, as a line of the file. */
export interface SpooledEvent {
  ts: number;
  type: string;
  agent: string | null;
  /** Redacted event data in canonical JSON, exactly as it will be chained. */
  data: string;
}

/**
 * `<ts padded to 15 digits>-<pid>-<8 hex>`: names sort in creation order, and the pid
 * tells intake whether the writer is still alive.
 */
function spoolFileBase(now: number): string {
  const random = Math.floor(Math.random() * 0x1_0000_0000).toString(16).padStart(8, '0');
  return `${String(now).padStart(15, '0')}-${process.pid}-${random}`;
}

/** The pid in a spool file name, or undefined when the name is not one of ours. */
export function spoolWriterPid(name: string): number | undefined {
  const m = /^\d{15}-(\d+)-[0-9a-f]{8}\.(open|done)$/.exec(name);
  return m ? Number(m[1]) : undefined;
}

/** The file name without its state suffix: the same key before and after the rename. */
export function spoolKey(name: string): string {
  return name.replace(/\.(open|done)$/, '');
}

export class AuditSpool {
  private fd: number | undefined;
  private finished = false;

  private constructor(
    private readonly dir: string,
    private readonly base: string,
    private readonly now: () => number,
  ) {}

  /** Throws when the spool cannot be created (the caller falls back to the database). */
  static create(stateDir: string, now: () => number = Date.now): AuditSpool {
    const dir = spoolDir(stateDir);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const spool = new AuditSpool(dir, spoolFileBase(now()), now);
    // O_EXCL: never append to another writer's file, whatever the name collision.
    spool.fd = openSync(join(dir, spool.base + OPEN_SUFFIX), 'wx', 0o600);
    return spool;
  }

  /** The file, while it is open (`celistra run` hands it to celistra-exec for the exit event). */
  get openPath(): string {
    return join(this.dir, this.base + OPEN_SUFFIX);
  }

  /** Append one event; throws on a write error (a full disk) so the caller can fall back. */
  record(e: AuditEventInput): void {
    if (this.fd === undefined) throw new Error('the audit spool is closed');
    const raw = e.data ?? {};
    const data = raw !== null && typeof raw === 'object' && !Array.isArray(raw) ? redactEventData(raw) : { value: raw };
    const line: SpooledEvent = { ts: this.now(), type: e.type, agent: typeof e.agent === 'string' ? e.agent : null, data: canonicalJson(data) };
    const bytes = Buffer.from(JSON.stringify(line) + '\n');
    // Intake reads only whole lines, so a line cut short by a full disk is never taken
    // for an event; a short write is finished here or throws.
    let off = 0;
    while (off < bytes.length) off += writeSync(this.fd, bytes, off);
  }

  /** Close the file and mark it finished, so intake may take it whole and remove it. */
  finish(): void {
    if (this.finished) return;
    this.finished = true;
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    renameSync(join(this.dir, this.base + OPEN_SUFFIX), join(this.dir, this.base + DONE_SUFFIX));
  }
}
