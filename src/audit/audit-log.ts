import { join } from 'node:path';
import { CelistraError } from '../policy/errors.js';
import { canonicalJson } from './canonical.js';
import type { AuditEventInput, AuditRow, LossData, RecoveryData } from './events.js';
import { classifyFailure, fileIdentity, moveAside } from './recovery.js';
import { redactEventData } from './redaction.js';
import { DEFAULT_RETENTION_DAYS, prune, pruneIsDue, AUTO_PRUNE_INTERVAL_MS, type PruneResult } from './retention.js';
import { NewerSchemaError } from './schema.js';
import type { ChainRow, VerifyResult } from './hash-chain.js';
import { AuditStore, toAuditRow, UnreadableDatabaseError, WRITE_BUSY_TIMEOUT_MS, type AuditQuery, type PendingEvent } from './store.js';
import { takeSpool } from './spool-intake.js';

export interface AuditLogOptions {
  /** Celistra's state dir (celistraPaths().stateDir); the database is `<stateDir>/audit.db`. */
  stateDir: string;
  /** Clock, ms since the epoch (tests inject a fake one). */
  now?: () => number;
  /** Rows older than this are pruned (default 30). */
  retentionDays?: number;
  /** Events kept in memory while the database is unavailable; beyond it they are counted as lost (default 50,000). */
  maxBuffered?: number;
}

/**
 * The audit log of one process. Writing is asynchronous-by-batch but never lossy on a
 * normal exit:
 *
 * - record() queues the event and returns at once. When the log is idle the queue is
 *   written in one transaction at the end of the current synchronous job (a microtask):
 *   a burst of record() calls costs one commit and is on disk before control returns to
 *   the event loop. While events keep coming (the last write was under COALESCE_MS
 *   ago), the write waits out the rest of that window, so a sustained stream is
 *   committed in batches; a queue of BATCH_LIMIT events is written at once.
 * - flush() writes the queue now (waiting up to 2 s for a lock) and says whether
 *   anything is still waiting; close() flushes, and so does a process 'exit' handler,
 *   so `celistra run` ending with process.exit() keeps its last events.
 * - When the database is locked or the disk is full, events stay queued and are
 *   retried with backoff (up to maxBuffered of them); events beyond that are counted and
 *   a `loss` event with the count is written as soon as writing works again.
 */
export interface AuditLog {
  /** Synchronous and never throws. */
  record(e: AuditEventInput): void;
  /** Newest first. Throws CelistraError('E_AUDIT') when the log cannot be read at all. */
  query(q: AuditQuery): AuditRow[];
  /**
   * Rows with an id above `afterId`, oldest first (default limit 1000). subscribe()
   * sees only this process's writes; a reader that must also see other processes
   * (`celistra run` writing while the daemon streams) polls this with the last id seen.
   */
  rowsAfter(afterId: number, limit?: number): AuditRow[];
  /** Walk the hash chain; `{ ok: false }` names the first bad row. */
  verify(): VerifyResult;
  /** Apply retention now (it also runs on open and after writes, at most daily). */
  prune(): PruneResult;
  /** Write queued events now; true when nothing is left queued. */
  flush(): boolean;
  /** Live stream: called with every row this process writes, after it is committed. */
  subscribe(listener: (row: AuditRow) => void): () => void;
  close(): void;
  /** The database file. */
  readonly path: string;
}

export const BATCH_LIMIT = 1000;
/** While events keep coming, write at most once per this many ms (see scheduleWrite). */
export const COALESCE_MS = 20;
const DEFAULT_MAX_BUFFERED = 50_000;
const DEFAULT_ROWS_AFTER_LIMIT = 1000;
/** How long flush()/close()/exit wait for another writer before giving up. */
const FINAL_BUSY_TIMEOUT_MS = 2000;
const FIRST_RETRY_MS = 20;
const MAX_RETRY_MS = 500;

/**
 * Open (creating, migrating or recovering as needed) `<stateDir>/audit.db`. Throws only
 * for a bad option (a retention that is not a positive number of days); an unavailable
 * database is retried in the background, never thrown.
 */
export function openAuditLog(opts: AuditLogOptions): AuditLog {
  return new SqliteAuditLog(opts);
}

interface Drops {
  count: number;
  firstTs: number;
  lastTs: number;
}

class SqliteAuditLog implements AuditLog {
  readonly path: string;
  private readonly stateDir: string;
  private readonly now: () => number;
  private readonly retentionDays: number;
  private readonly maxBuffered: number;
  private store: AuditStore | undefined;
  /** dev:ino of the file `store` was opened on, so recovery never moves someone else's fresh file. */
  private storeIdentity: string | undefined;
  /** Set when the file belongs to a newer Celistra: nothing will be written to it. */
  private unusable: Error | undefined;
  private queue: PendingEvent[] = [];
  private drops: Drops | undefined;
  private lastFailure = 'unknown';
  private writeScheduled = false;
  private coalesceTimer: NodeJS.Timeout | undefined;
  /** performance.now() after the last successful write. */
  private lastWriteAt = Number.NEGATIVE_INFINITY;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryDelay = FIRST_RETRY_MS;
  private lastPruneCheck = Number.NEGATIVE_INFINITY;
  private closed = false;
  private readonly listeners = new Set<(row: AuditRow) => void>();
  /** Set once the process is exiting: no microtask or timer will run again. */
  private exiting = false;
  private readonly onExit = () => {
    this.exiting = true;
    this.flushWaiting(FINAL_BUSY_TIMEOUT_MS);
  };

  constructor(opts: AuditLogOptions) {
    this.stateDir = opts.stateDir;
    this.path = join(opts.stateDir, 'audit.db');
    this.now = opts.now ?? Date.now;
    this.retentionDays = opts.retentionDays ?? DEFAULT_RETENTION_DAYS;
    // Zero or less would prune the whole log on open: refuse rather than guess.
    if (!(this.retentionDays > 0)) {
      throw new CelistraError('E_USAGE', `audit retention must be a positive number of days, not ${String(opts.retentionDays)}`);
    }
    this.maxBuffered = opts.maxBuffered ?? DEFAULT_MAX_BUFFERED;
    process.on('exit', this.onExit);
    if (this.ensureStore() && this.queue.length > 0) this.writeQueue();
  }

  record(e: AuditEventInput): void {
    try {
      if (this.closed) return;
      const ts = this.now();
      if (this.queue.length >= this.maxBuffered) {
        this.noteDrop(ts);
        return;
      }
      this.queue.push(toPending(e, ts));
      // Recorded from another 'exit' handler: write now, or never.
      if (this.exiting) this.flushWaiting(FINAL_BUSY_TIMEOUT_MS);
      else if (this.retryTimer !== undefined) return;
      else if (this.queue.length >= BATCH_LIMIT) this.writeQueue();
      else this.scheduleWrite();
    } catch {
      this.noteDrop(Date.now());
    }
  }

  flush(): boolean {
    return this.flushWaiting(FINAL_BUSY_TIMEOUT_MS);
  }

  query(q: AuditQuery): AuditRow[] {
    const store = this.readableStore();
    try {
      return store.query(q);
    } catch (e) {
      throw this.readError(e);
    }
  }

  rowsAfter(afterId: number, limit = DEFAULT_ROWS_AFTER_LIMIT): AuditRow[] {
    const store = this.readableStore();
    try {
      return store.rowsAfter(afterId, limit);
    } catch (e) {
      throw this.readError(e);
    }
  }

  verify(): VerifyResult {
    const store = this.readableStore();
    try {
      return store.verify();
    } catch (e) {
      if (classifyFailure(e) === 'corrupt') {
        return { ok: false, firstBadId: 0, reason: `the database file is damaged (${describe(e)}); it was left as it is`, rows: 0 };
      }
      throw this.readError(e);
    }
  }

  prune(): PruneResult {
    const store = this.readableStore();
    try {
      store.setBusyTimeout(FINAL_BUSY_TIMEOUT_MS);
      return this.pruneWith(store);
    } catch (e) {
      throw this.readError(e);
    } finally {
      store.setBusyTimeout(WRITE_BUSY_TIMEOUT_MS);
    }
  }

  subscribe(listener: (row: AuditRow) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  close(): void {
    if (this.closed) return;
    this.flushWaiting(FINAL_BUSY_TIMEOUT_MS);
    this.closed = true;
    process.off('exit', this.onExit);
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer);
    if (this.coalesceTimer !== undefined) clearTimeout(this.coalesceTimer);
    this.retryTimer = undefined;
    this.coalesceTimer = undefined;
    releaseQuietly(() => this.store?.close());
    this.store = undefined;
    this.listeners.clear();
  }

  /** Write the queue, waiting up to `busyMs` for the lock; true when nothing is left. */
  private flushWaiting(busyMs: number): boolean {
    if (this.closed) return this.queue.length === 0;
    const store = this.ensureStore();
    if (!store) return this.writeQueue();
    try {
      store.setBusyTimeout(busyMs);
      return this.writeQueue();
    } finally {
      this.store?.setBusyTimeout(WRITE_BUSY_TIMEOUT_MS);
    }
  }

  /** Never throws: on failure the queue is kept and a retry scheduled. */
  private writeQueue(mayRecover = true): boolean {
    if (this.closed) return this.queue.length === 0;
    if (this.queue.length === 0 && this.drops === undefined) return true;
    this.followReplacedFile();
    const store = this.ensureStore();
    if (!store) {
      this.scheduleRetry();
      return false;
    }
    const batch = this.drops === undefined ? this.queue : [...this.queue, this.lossEvent(this.drops)];
    try {
      const rows = store.append(batch);
      this.lastWriteAt = performance.now();
      this.queue = [];
      this.drops = undefined;
      this.retryDelay = FIRST_RETRY_MS;
      this.notify(rows);
      this.autoPrune(store);
      return true;
    } catch (e) {
      this.lastFailure = describe(e);
      if (classifyFailure(e) === 'corrupt') {
        const broken = this.store;
        this.store = undefined;
        this.recover(this.storeIdentity, e, () => broken?.close());
        if (this.store && mayRecover) return this.writeQueue(false);
      }
      this.scheduleRetry();
      return false;
    }
  }

  /**
   * Another process may have found the file unreadable and moved it aside: keep writing
   * to the fresh file at the path, not to the old one this connection still holds.
   */
  private followReplacedFile(): void {
    if (this.store === undefined || fileIdentity(this.path) === this.storeIdentity) return;
    releaseQuietly(() => this.store?.close());
    this.store = undefined;
  }

  private ensureStore(): AuditStore | undefined {
    if (this.store || this.unusable || this.closed) return this.store;
    const identity = fileIdentity(this.path);
    try {
      this.adopt(AuditStore.open(this.path), identity);
    } catch (e) {
      this.lastFailure = describe(e);
      if (e instanceof NewerSchemaError) this.unusable = e;
      else if (e instanceof UnreadableDatabaseError) this.recover(identity, e, e.release);
      else if (classifyFailure(e) === 'corrupt') this.recover(identity, e, () => undefined);
    }
    return this.store;
  }

  private adopt(store: AuditStore, identity: string | undefined): void {
    this.store = store;
    this.storeIdentity = identity ?? fileIdentity(this.path);
    this.autoPrune(store);
    this.takeSpooled(store);
  }

  /** Chain what `celistra run` processes spooled (spool.ts); on failure it waits for the next try. */
  private takeSpooled(store: AuditStore): void {
    try {
      this.notify(takeSpool(store, this.stateDir));
    } catch (e) {
      this.lastFailure = describe(e);
    }
  }

  /**
   * Move the unreadable file aside and start afresh; the `recovery` event goes to the
   * front of the queue so it is the fresh log's first row.
   */
  private recover(identity: string | undefined, cause: unknown, releaseBroken: () => void): void {
    try {
      let movedTo: string | undefined;
      try {
        movedTo = moveAside(this.path, identity, this.now());
      } finally {
        releaseQuietly(releaseBroken);
      }
      if (movedTo !== undefined) {
        const data: RecoveryData = { movedTo, reason: describe(cause) };
        this.queue.unshift(toPending({ type: 'recovery', data: { ...data } }, this.now()));
      }
      this.adopt(AuditStore.open(this.path), undefined);
    } catch (e) {
      this.lastFailure = describe(e);
    }
  }

  private autoPrune(store: AuditStore): void {
    const now = this.now();
    if (Math.abs(now - this.lastPruneCheck) < AUTO_PRUNE_INTERVAL_MS) return;
    this.lastPruneCheck = now;
    try {
      if (pruneIsDue(store, now)) this.pruneWith(store);
    } catch {
      // Busy or full: retention is retried on the next open or the next day; events matter more.
    }
  }

  private pruneWith(store: AuditStore): PruneResult {
    const result = prune(store, this.now(), this.retentionDays);
    if (result.anchorId !== undefined && this.listeners.size > 0) this.notifyRows(store.query({ type: 'prune', limit: 1 }));
    return result;
  }

  /**
   * Idle: write at the end of this synchronous job. Busy (the last write was less than
   * COALESCE_MS ago): wait out the rest of that window so a stream of events shares one
   * transaction; each commit rewrites every index page it touches, so fewer, larger
   * commits are what sustained throughput needs.
   */
  private scheduleWrite(): void {
    if (this.writeScheduled) return;
    this.writeScheduled = true;
    const run = () => {
      this.writeScheduled = false;
      this.coalesceTimer = undefined;
      this.writeQueue();
    };
    const sinceLast = performance.now() - this.lastWriteAt;
    if (sinceLast >= COALESCE_MS) {
      queueMicrotask(run);
      return;
    }
    this.coalesceTimer = setTimeout(run, COALESCE_MS - sinceLast);
    // Like the retry timer: the exit handler writes whatever is left.
    this.coalesceTimer.unref();
  }

  private scheduleRetry(): void {
    if (this.retryTimer !== undefined || this.closed || this.unusable) return;
    const delay = this.retryDelay;
    this.retryDelay = Math.min(this.retryDelay * 2, MAX_RETRY_MS);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.writeQueue();
    }, delay);
    // A pending retry must not keep a finished process alive; the exit handler makes a last attempt.
    this.retryTimer.unref();
  }

  private noteDrop(ts: number): void {
    if (this.drops === undefined) this.drops = { count: 0, firstTs: ts, lastTs: ts };
    this.drops.count++;
    this.drops.lastTs = ts;
  }

  private lossEvent(drops: Drops): PendingEvent {
    const data: LossData = { dropped: drops.count, reason: this.lastFailure, firstDroppedTs: drops.firstTs, lastDroppedTs: drops.lastTs };
    return toPending({ type: 'loss', data: { ...data } }, this.now());
  }

  private notify(stored: ChainRow[]): void {
    if (this.listeners.size > 0) this.notifyRows(stored.map(toAuditRow));
  }

  private notifyRows(rows: AuditRow[]): void {
    for (const row of rows) {
      for (const listener of this.listeners) {
        try {
          listener(row);
        } catch {
          // A broken subscriber must not break recording.
        }
      }
    }
  }

  /** The store for reading, after writing this process's own queued events. */
  private readableStore(): AuditStore {
    if (this.closed) throw new CelistraError('E_INTERNAL', 'the audit log is closed');
    this.flushWaiting(WRITE_BUSY_TIMEOUT_MS);
    this.followReplacedFile();
    const store = this.ensureStore();
    if (store) {
      this.takeSpooled(store);
      return store;
    }
    if (this.unusable) throw new CelistraError('E_AUDIT', this.unusable.message, 'upgrade Celistra to read this audit log');
    throw new CelistraError('E_AUDIT', `cannot open the audit log ${this.path}: ${this.lastFailure}`);
  }

  private readError(e: unknown): CelistraError {
    return new CelistraError('E_AUDIT', `cannot read the audit log ${this.path}: ${describe(e)}`);
  }
}

function toPending(e: AuditEventInput, ts: number): PendingEvent {
  const raw = e.data ?? {};
  const data = raw !== null && typeof raw === 'object' && !Array.isArray(raw) ? redactEventData(raw) : { value: raw };
  return { ts, type: e.type, agent: typeof e.agent === 'string' ? e.agent : null, data: canonicalJson(data) };
}

function releaseQuietly(release: () => void): void {
  try {
    release();
  } catch {
    // The connection is being abandoned (it failed, or the log is closing): nothing left to lose.
  }
}

function describe(e: unknown): string {
  const err = e as { code?: unknown; message?: unknown };
  const message = typeof err?.message === 'string' ? err.message : String(e);
  return typeof err?.code === 'string' ? `${err.code}: ${message}` : message;
}
