import Database from 'better-sqlite3';
import { sqliteNativeBinding } from './sqlite-binding.js';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import type { AuditEventType, AuditRow } from './events.js';
import { canonicalRow, chainHash, GENESIS_HASH, verifyChain, type ChainHead, type ChainRow, type ChainStart, type VerifyResult } from './hash-chain.js';
import { assertNotNewer, migrate } from './schema.js';
import { classifyFailure } from './recovery.js';

/** An event ready to be chained: data already redacted and in canonical JSON. */
export interface PendingEvent {
  ts: number;
  type: AuditEventType;
  agent: string | null;
  data: string;
}

export interface AuditQuery {
  agent?: string;
  /** Only events at or after this time (ms since the epoch). */
  since?: number;
  type?: string;
  /** Default DEFAULT_QUERY_LIMIT. */
  limit?: number;
}

export const DEFAULT_QUERY_LIMIT = 100;

const WAL_AUTOCHECKPOINT_PAGES = 10_000;
/** After a checkpoint, a WAL grown past this (by a large prune, say) is truncated back. */
const WAL_SIZE_LIMIT_BYTES = 64 * 1024 * 1024;

/** How long a write waits for another process's transaction before giving up for now. */
export const WRITE_BUSY_TIMEOUT_MS = 50;

const ROW_COLUMNS = 'id, ts, type, agent, data, prev_hash, hash';
/** A row as SELECT ROW_COLUMNS returns it in raw (array) mode. */
type RawRow = [id: number, ts: number, type: string, agent: string | null, data: string, prevHash: string, hash: string];

function chainRowOf(r: RawRow): ChainRow {
  return { id: r[0], ts: r[1], type: r[2], agent: r[3], data: r[4], prevHash: r[5], hash: r[6] };
}

/** What a `prune` row vouches for: the chain resumes at `toId + 1` from `lastPrunedHash`. */
interface PruneAnchor {
  anchorId: number;
  toId: number;
  lastPrunedHash: string;
}

/**
 * One connection to `audit.db`. Opening it touches the schema and the newest page, so
 * an unreadable file fails here (and is recovered by the caller) rather than later.
 * All writes append to the chain inside BEGIN IMMEDIATE: the previous hash is read
 * under the write lock, so processes writing the same file never fork the chain.
 */
export class AuditStore {
  readonly db: Database.Database;
  private readonly insertRow: Database.Statement;
  private readonly readHead: Database.Statement;
  private readonly writeHead: Database.Statement;

  private constructor(db: Database.Database) {
    this.db = db;
    this.insertRow = db.prepare(`INSERT INTO events (${ROW_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)`);
    this.readHead = db.prepare('SELECT id, hash FROM chain_head WHERE singleton = 1');
    this.writeHead = db.prepare('INSERT INTO chain_head (singleton, id, hash) VALUES (1, ?, ?) ON CONFLICT (singleton) DO UPDATE SET id = excluded.id, hash = excluded.hash');
  }

  /** Throws the raw SQLite/fs error; the caller decides between recovery and retry. */
  static open(path: string): AuditStore {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    // Create it 0600 ourselves (SQLite would follow the umask): the log names every
    // command, workspace and environment variable an agent was given. SQLite gives
    // the -wal and -shm files the same mode.
    closeSync(openSync(path, 'a', 0o600));
    const nativeBinding = sqliteNativeBinding();
    const db = new Database(path, { timeout: WRITE_BUSY_TIMEOUT_MS, ...(nativeBinding ? { nativeBinding } : {}) });
    try {
      // A newer Celistra's database is left exactly as it is, down to its journal mode.
      assertNotNewer(db);
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      // Checkpoint (copy the WAL back and fsync) every ~40 MB instead of SQLite's 4 MB:
      // index pages rewritten by many small commits are copied back once, and the fsync
      // that dominates a busy stream happens a tenth as often (measured in bench/audit.ts).
      db.pragma(`wal_autocheckpoint = ${WAL_AUTOCHECKPOINT_PAGES}`);
      db.pragma(`journal_size_limit = ${WAL_SIZE_LIMIT_BYTES}`);
      migrate(db);
      const store = new AuditStore(db);
      store.head();
      db.prepare('SELECT id FROM events ORDER BY id DESC LIMIT 1').get();
      return store;
    } catch (e) {
      if (classifyFailure(e) !== 'corrupt') {
        db.close();
        throw e;
      }
      // Closing would let SQLite checkpoint and delete the -wal file; the caller moves
      // the files aside first, then releases the connection.
      throw new UnreadableDatabaseError(e, () => db.close());
    }
  }

  setBusyTimeout(ms: number): void {
    this.db.pragma(`busy_timeout = ${Math.max(0, Math.floor(ms))}`);
  }

  head(): ChainHead | undefined {
    return this.readHead.get() as ChainHead | undefined;
  }

  /** Append in one IMMEDIATE transaction; returns the rows as stored. */
  append(events: readonly PendingEvent[]): ChainRow[] {
    return this.db.transaction(() => this.appendLocked(events)).immediate();
  }

  /** Append inside a transaction the caller already holds (BEGIN IMMEDIATE). */
  appendLocked(events: readonly PendingEvent[]): ChainRow[] {
    const head = this.head();
    let id = head?.id ?? 0;
    let prevHash = head?.hash ?? GENESIS_HASH;
    const rows: ChainRow[] = [];
    for (const e of events) {
      id++;
      const row = { id, ts: e.ts, type: e.type, agent: e.agent, data: e.data };
      const hash = chainHash(prevHash, canonicalRow(row));
      this.insertRow.run(id, e.ts, e.type, e.agent, e.data, prevHash, hash);
      rows.push({ ...row, prevHash, hash });
      prevHash = hash;
    }
    if (rows.length > 0) this.writeHead.run(id, prevHash);
    return rows;
  }

  /** Newest first (by time, then by chain position). */
  query(q: AuditQuery): AuditRow[] {
    const where: string[] = [];
    const params: (string | number)[] = [];
    if (q.agent !== undefined) {
      where.push('agent = ?');
      params.push(q.agent);
    }
    if (q.type !== undefined) {
      where.push('type = ?');
      params.push(q.type);
    }
    if (q.since !== undefined) {
      where.push('ts >= ?');
      params.push(q.since);
    }
    const limit = q.limit ?? DEFAULT_QUERY_LIMIT;
    // With an agent, walk that agent's slice of (agent, ts) newest first; left to itself
    // the planner may prefer the type index and filter a whole type's rows instead.
    const index = q.agent !== undefined ? ' INDEXED BY events_agent_ts' : '';
    const sql = `SELECT ${ROW_COLUMNS} FROM events${index}${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY ts DESC, id DESC LIMIT ?`;
    const rows = this.db.prepare(sql).raw(true).all(...params, Math.max(0, Math.floor(limit))) as RawRow[];
    return rows.map((r) => toAuditRow(chainRowOf(r)));
  }

  /** Rows written after `afterId`, oldest first: how a reader follows other processes' writes. */
  rowsAfter(afterId: number, limit: number): AuditRow[] {
    const rows = this.db.prepare(`SELECT ${ROW_COLUMNS} FROM events WHERE id > ? ORDER BY id LIMIT ?`).raw(true).all(afterId, Math.max(0, Math.floor(limit))) as RawRow[];
    return rows.map((r) => toAuditRow(chainRowOf(r)));
  }

  /**
   * Walk the whole chain in id order inside one read transaction, so concurrent
   * writers (WAL) neither block the walk nor make it see a half-written batch.
   */
  verify(): VerifyResult {
    return this.db.transaction(() => {
      const anchors = this.pruneAnchors();
      const startFor = (firstId: number): ChainStart | undefined => {
        if (firstId === 1) return { expectedPrevHash: GENESIS_HASH, origin: 'the genesis hash' };
        const anchor = anchors.find((a) => a.toId === firstId - 1);
        return anchor && { expectedPrevHash: anchor.lastPrunedHash, origin: `the prune anchor (row ${anchor.anchorId})` };
      };
      return verifyChain(this.chainRows(), startFor, this.head());
    }).deferred();
  }

  private *chainRows(): Generator<ChainRow> {
    // Raw rows (arrays) skip building an object per column: verify walks every row.
    const stmt = this.db.prepare(`SELECT ${ROW_COLUMNS} FROM events ORDER BY id`).raw(true);
    for (const r of stmt.iterate() as IterableIterator<RawRow>) yield chainRowOf(r);
  }

  private pruneAnchors(): PruneAnchor[] {
    const rows = this.db.prepare("SELECT id, data FROM events WHERE type = 'prune'").all() as { id: number; data: string }[];
    const anchors: PruneAnchor[] = [];
    for (const r of rows) {
      try {
        const d = JSON.parse(r.data) as { toId?: unknown; lastPrunedHash?: unknown };
        if (typeof d.toId === 'number' && typeof d.lastPrunedHash === 'string') anchors.push({ anchorId: r.id, toId: d.toId, lastPrunedHash: d.lastPrunedHash });
      } catch {
        // An anchor with unreadable data cannot vouch for anything; the walk reports its row.
      }
    }
    return anchors;
  }

  getMeta(key: string): string | undefined {
    const row = this.db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as { value: string } | undefined;
    return row?.value;
  }

  setMeta(key: string, value: string): void {
    this.db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(key, value);
  }

  close(): void {
    this.db.close();
  }
}

export function toAuditRow(r: ChainRow): AuditRow {
  let data: Record<string, unknown>;
  try {
    data = JSON.parse(r.data) as Record<string, unknown>;
  } catch {
    // Shown rather than hidden: `audit verify` names the row as tampered.
    data = { unreadable: r.data };
  }
  return { id: r.id, ts: r.ts, type: r.type as AuditRow['type'], agent: r.agent, data, prevHash: r.prevHash, hash: r.hash };
}

/** A database that SQLite reports as corrupt or not a database, still held open. */
export class UnreadableDatabaseError extends Error {
  readonly code: string;

  constructor(
    readonly original: unknown,
    /** Close the connection; call only after the files were moved aside. */
    readonly release: () => void,
  ) {
    const err = original as { code?: unknown; message?: unknown };
    super(typeof err?.message === 'string' ? err.message : String(original));
    this.code = typeof err?.code === 'string' ? err.code : 'SQLITE_CORRUPT';
  }
}
