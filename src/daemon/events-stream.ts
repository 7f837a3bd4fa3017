import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { AuditRow } from '../audit/index.js';
import { AuditFollower, DEFAULT_POLL_MS, type AuditReader } from './events-follower.js';
import { matchesFilter, parseStreamQuery, type EventFilter } from './events-query.js';
import { errorBody } from './http-error.js';
import { requestPath } from './request-path.js';
import type { DiffStat, DiffStatMessage } from './diff-stat.js';

export const EVENTS_STREAM_PATH = '/v1/events/stream';
/** A connecting client is sent at most this many rows' worth of ids it missed; older ones are a `gap`. */
export const MAX_BACKLOG_ROWS = 10_000;
/**
 * A live client with more than this unsent stops taking rows live and reads them from
 * the log at its own pace instead: the daemon never buffers more for a slow reader.
 */
export const MAX_UNSENT_BYTES = 1024 * 1024;
/** Closed with this code when it could not keep up (its reason says which `after` resumes it). */
export const CLOSE_TOO_SLOW = 4008;
/** Closed with this code when the database was moved aside and started afresh (docs/audit.md, Corruption). */
export const CLOSE_LOG_REPLACED = 4010;
/** Reading from the log, a client gets the next page whenever its unsent bytes are below this. */
const BACKLOG_LOW_WATER = 256 * 1024;
const BACKLOG_PAGE_ROWS = 500;
const BACKLOG_RECHECK_MS = 20;
/**
 * A client whose unsent bytes stay above the low water for this long is dropped. One that
 * reads, however far behind, is not: its rows wait in the log, not in the daemon.
 */
export const STALL_MS = 10_000;
/** The stream takes no client messages; anything this big is not a ping. */
const MAX_CLIENT_MESSAGE_BYTES = 4096;
/** After the close frame, how long a client may take to answer before its socket is cut. */
const STOP_CLOSE_GRACE_MS = 1000;
/** A dropped slow client still has what was sent to read before it sees why it was closed. */
const SLOW_CLOSE_GRACE_MS = 10_000;

/** WS /v1/events/stream (docs/api.md): backlog after an id, then every row as it is committed. */
export interface EventStreamEndpoint {
  /** True for an upgrade request this endpoint answers. */
  handles(req: IncomingMessage): boolean;
  onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Send an agent's new diff stat to the clients that asked for them (`diffStats=1`). */
  publishDiffStat(agent: string, stat: DiffStat | null): void;
  /** The daemon is stopping: hand out the last rows (its daemon-stop), close every client with 1001. */
  close(): void;
}

export function createEventStream(log: AuditReader): EventStreamEndpoint {
  const clients = new Set<StreamClient>();
  // Ids start again at 1 in a recovered log: a client's `after` would skip its rows.
  const follower = new AuditFollower(log, DEFAULT_POLL_MS, () => {
    for (const client of [...clients]) client.end(CLOSE_LOG_REPLACED, 'the audit log was replaced by a fresh one; reconnect with after=0', STOP_CLOSE_GRACE_MS);
  });
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_CLIENT_MESSAGE_BYTES });
  // Every client following the same row sends the same text: serialise it once.
  let lastFrame: { row: AuditRow; text: string } | undefined;
  const frameOf = (row: AuditRow): string => {
    if (lastFrame?.row !== row) lastFrame = { row, text: JSON.stringify({ event: row }) };
    return lastFrame.text;
  };

  return {
    handles: (req) => requestPath(req) === EVENTS_STREAM_PATH,
    onUpgrade(req, socket, head) {
      socket.on('error', () => socket.destroy());
      let query: ReturnType<typeof parseStreamQuery>;
      try {
        query = parseStreamQuery(new URL(req.url ?? '/', 'http://celistra').searchParams);
      } catch (e) {
        refuseUpgrade(socket, e);
        return;
      }
      wss.handleUpgrade(req, socket, head, (ws) => {
        const client = new StreamClient(ws, query, log, follower, frameOf, () => clients.delete(client), query.diffStats === true);
        clients.add(client);
        client.start(query.after);
      });
    },
    publishDiffStat(agent, stat) {
      const message: DiffStatMessage = { diffStat: { agent, stat } };
      const text = JSON.stringify(message);
      for (const client of clients) client.sendDiffStat(text);
    },
    close() {
      follower.catchUp();
      for (const client of [...clients]) client.end(1001, 'daemon stopping', STOP_CLOSE_GRACE_MS);
      follower.close();
      wss.close();
    },
  };
}

/**
 * One stream client. It starts reading rows above its cursor from the log, page by page
 * at its own pace; once the cursor reaches the follower's position it goes live and
 * takes rows from the follower. Rows handed out while it was not live are in the log,
 * so reading picks them up: nothing is skipped, and the cursor (the last id sent or
 * passed over) means nothing is sent twice. A live client that falls MAX_UNSENT_BYTES
 * behind goes back to reading from the log; one that stalls there for STALL_MS is
 * dropped.
 */
class StreamClient {
  private cursor = 0;
  private live = false;
  private closed = false;
  private removeSink: (() => void) | undefined;
  private pumpTimer: NodeJS.Timeout | undefined;
  private progressAt = Date.now();

  constructor(
    private readonly ws: WebSocket,
    private readonly filter: EventFilter,
    private readonly log: AuditReader,
    private readonly follower: AuditFollower,
    private readonly frameOf: (row: AuditRow) => string,
    private readonly forget: () => void,
    private readonly wantsDiffStats = false,
  ) {
    ws.on('error', () => ws.terminate());
    ws.on('close', () => this.dispose());
    // The stream is one-way; client messages are ignored (oversized ones close it, 1009).
    ws.on('message', () => undefined);
  }

  start(after: number | undefined): void {
    this.removeSink = this.follower.add((row) => this.onLive(row));
    const end = this.follower.position;
    // An id past the end (the client saw a log that was since replaced) means "from now on".
    this.cursor = after === undefined ? end : Math.min(after, end);
    if (end - this.cursor > MAX_BACKLOG_ROWS) {
      const resume = end - MAX_BACKLOG_ROWS;
      this.ws.send(JSON.stringify({ gap: { from: this.cursor + 1, to: resume } }));
      this.cursor = resume;
    }
    this.pump();
  }

  /**
   * A diff stat is news about now, not a row of the log: a client too far behind to take
   * it live does not get it (it reads the stats again in its next listing).
   */
  sendDiffStat(text: string): void {
    if (!this.wantsDiffStats || this.closed || this.ws.bufferedAmount > MAX_UNSENT_BYTES) return;
    this.ws.send(text);
  }

  end(code: number, reason: string, graceMs: number): void {
    if (this.closed) return;
    this.dispose();
    this.ws.close(code, closeReason(reason));
    setTimeout(() => this.ws.terminate(), graceMs).unref();
  }

  private readonly pump = (): void => {
    this.pumpTimer = undefined;
    if (this.closed) return;
    if (this.ws.bufferedAmount > BACKLOG_LOW_WATER) {
      if (Date.now() - this.progressAt > STALL_MS) return this.tooSlow(`${this.ws.bufferedAmount} bytes unread for ${STALL_MS / 1000} s`);
      this.pumpTimer = setTimeout(this.pump, BACKLOG_RECHECK_MS);
      return;
    }
    this.progressAt = Date.now();
    let rows: AuditRow[];
    try {
      rows = this.log.rowsAfter(this.cursor, BACKLOG_PAGE_ROWS);
    } catch (e) {
      this.end(1011, `cannot read the audit log: ${(e as Error).message}`, STOP_CLOSE_GRACE_MS);
      return;
    }
    // Read after rowsAfter(): reading may have taken in spooled rows and handed them out.
    const end = this.follower.position;
    let reachedEnd = rows.length < BACKLOG_PAGE_ROWS;
    for (const row of rows) {
      if (row.id > end) {
        // Committed by another process and not handed out yet: it will come live.
        reachedEnd = true;
        break;
      }
      this.cursor = row.id;
      if (matchesFilter(this.filter, row)) this.ws.send(this.frameOf(row));
    }
    if (reachedEnd || this.cursor >= end) {
      this.cursor = Math.max(this.cursor, end);
      this.live = true;
      return;
    }
    this.pumpTimer = setTimeout(this.pump, 0);
  };

  private onLive(row: AuditRow): void {
    if (!this.live || this.closed || row.id <= this.cursor) return;
    if (matchesFilter(this.filter, row)) {
      if (this.ws.bufferedAmount > MAX_UNSENT_BYTES) {
        // This row and the ones after it are in the log: read them from there when it drains.
        this.live = false;
        this.progressAt = Date.now();
        this.pumpTimer = setTimeout(this.pump, BACKLOG_RECHECK_MS);
        return;
      }
      this.ws.send(this.frameOf(row));
    }
    this.cursor = row.id;
  }

  private tooSlow(why: string): void {
    this.end(CLOSE_TOO_SLOW, `client too slow: ${why}; reconnect with after=${this.cursor}`, SLOW_CLOSE_GRACE_MS);
  }

  private dispose(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.pumpTimer);
    this.removeSink?.();
    this.forget();
  }
}

/** WebSocket close reasons are at most 123 bytes (ws throws beyond): an error message may name a long path. */
function closeReason(text: string): string {
  let reason = text;
  while (Buffer.byteLength(reason) > 123) reason = reason.slice(0, -1);
  return reason;
}


/** Answer a refused upgrade as the HTTP API would, with the JSON error body. */
function refuseUpgrade(socket: Duplex, e: unknown): void {
  const { status, body } = errorBody(e);
  const text = JSON.stringify(body);
  socket.end(`HTTP/1.1 ${status} Error\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(text)}\r\nconnection: close\r\n\r\n${text}`);
}
