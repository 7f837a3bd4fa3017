import type { AuditLog, AuditRow } from '../audit/index.js';

/**
 * How often the log is re-read while someone follows it: rows written by other
 * processes (`celistra run`, through its spool) are only seen by reading.
 */
export const DEFAULT_POLL_MS = 300;
/** Rows per read. */
const PAGE_ROWS = 1000;
/** Pages read in one go before yielding to the event loop, so a flood never stalls the daemon. */
const PAGES_PER_TURN = 5;

export type AuditReader = Pick<AuditLog, 'query' | 'rowsAfter' | 'subscribe'>;
export type RowSink = (row: AuditRow) => void;

/**
 * Follows the audit log for the event stream: every committed row reaches every sink
 * exactly once, in id order, whichever process wrote it. The daemon's own writes come
 * through subscribe() at once; other processes' rows are found by polling rowsAfter().
 * It costs nothing while no one follows: the timer and the subscription exist only
 * while at least one sink is registered.
 */
export class AuditFollower {
  /** The id of the last row handed to the sinks. */
  private lastId = 0;
  /** False until the newest id has been read: until then no row can be told old from new. */
  private synced = false;
  private readonly sinks = new Set<RowSink>();
  private timer: NodeJS.Timeout | undefined;
  private unsubscribe: (() => void) | undefined;
  private reading = false;
  /** A row arrived while reading, or a read stopped early: read again. */
  private again = false;
  private catchUpQueued = false;

  /**
   * `onReplaced` is called when this process writes a row with an id already handed out:
   * the database was moved aside as unreadable and a fresh one started at id 1 (audit
   * recovery), so positions in the old log mean nothing. Following stops; sinks are forgotten.
   */
  constructor(
    private readonly log: AuditReader,
    private readonly pollMs = DEFAULT_POLL_MS,
    private readonly onReplaced: () => void = () => undefined,
  ) {}

  /** The id of the newest row the sinks have been given; rows above it are still to come. */
  get position(): number {
    return this.lastId;
  }

  get following(): boolean {
    return this.timer !== undefined;
  }

  /** Register a sink; it gets rows above `position` as of this call. Returns the removal. */
  add(sink: RowSink): () => void {
    if (this.sinks.size === 0) this.start();
    this.sinks.add(sink);
    return () => {
      if (this.sinks.delete(sink) && this.sinks.size === 0) this.stop();
    };
  }

  /** Read what was committed since the last read and hand it out (also on the timer). */
  catchUp(): void {
    if (this.timer === undefined) return;
    if (!this.synced) {
      this.sync();
      return;
    }
    if (this.reading) {
      this.again = true;
      return;
    }
    this.reading = true;
    let pages = 0;
    try {
      do {
        this.again = false;
        const rows = this.log.rowsAfter(this.lastId, PAGE_ROWS);
        for (const row of rows) if (row.id > this.lastId) this.dispatch(row);
        if (rows.length === PAGE_ROWS) this.again = true;
      } while (this.again && ++pages < PAGES_PER_TURN && this.timer !== undefined);
    } catch {
      // The log cannot be read for now (E_AUDIT: locked, replaced, full disk): the next tick retries.
      this.again = false;
    } finally {
      this.reading = false;
    }
    if (this.again) this.queueCatchUp();
  }

  /** Stop following now (the daemon is stopping); sinks are forgotten. */
  close(): void {
    this.sinks.clear();
    this.stop();
  }

  private start(): void {
    this.sync();
    this.unsubscribe = this.log.subscribe((row) => this.onOwnRow(row));
    this.timer = setInterval(() => this.catchUp(), this.pollMs);
  }

  private stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.synced = false;
  }

  /**
   * A row this process committed. The next id is handed out at once; a row past a gap
   * means another process committed rows in between, which only a read finds — so read.
   */
  private onOwnRow(row: AuditRow): void {
    if (!this.synced) return;
    if (this.reading) {
      this.again = true;
    } else if (row.id === this.lastId + 1) {
      this.dispatch(row);
    } else if (row.id > this.lastId) {
      this.queueCatchUp();
    } else {
      this.close();
      this.onReplaced();
    }
  }

  private queueCatchUp(): void {
    if (this.catchUpQueued) return;
    this.catchUpQueued = true;
    setImmediate(() => {
      this.catchUpQueued = false;
      this.catchUp();
    });
  }

  private dispatch(row: AuditRow): void {
    this.lastId = row.id;
    for (const sink of this.sinks) {
      try {
        sink(row);
      } catch {
        // One broken client must not cost the others their events.
      }
    }
  }

  /**
   * Start from the highest id committed. query() orders by time, and rows of concurrent
   * writers can commit slightly out of time order, so walk forward from the newest by time.
   */
  private sync(): void {
    try {
      let id = this.log.query({ limit: 1 })[0]?.id ?? 0;
      for (;;) {
        const rows = this.log.rowsAfter(id, PAGE_ROWS);
        if (rows.length === 0) break;
        id = rows[rows.length - 1]!.id;
      }
      this.lastId = id;
      this.synced = true;
    } catch {
      // Unreadable for now: the next tick tries again; nothing is handed out before that.
      this.synced = false;
    }
  }
}
