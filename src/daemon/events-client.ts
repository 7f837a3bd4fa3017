import type WebSocket from 'ws';
import { CelistraError } from '../policy/errors.js';
import type { AuditRow } from '../audit/index.js';
import { openDaemonWebSocket } from './answer.js';
import { CLOSE_LOG_REPLACED, CLOSE_TOO_SLOW, EVENTS_STREAM_PATH } from './events-stream.js';

export interface EventStreamRequest {
  agent?: string;
  type?: string;
  /** Send the rows above this id first; omitted: only rows committed from now on. */
  after?: number;
}

/**
 * Open WS /v1/events/stream on the daemon's socket. Rejects with the daemon's error when
 * it refuses the query. The socket comes back paused (a backlog may already be on its
 * way): call resume() once the message listener is in place.
 */
export function connectEventStream(socketPath: string, req: EventStreamRequest): Promise<WebSocket> {
  const params = new URLSearchParams();
  if (req.agent !== undefined) params.set('agent', req.agent);
  if (req.type !== undefined) params.set('type', req.type);
  if (req.after !== undefined) params.set('after', String(req.after));
  const query = params.toString() ? `?${params}` : '';
  return openDaemonWebSocket(socketPath, `${EVENTS_STREAM_PATH}${query}`, 'event stream');
}

export interface EventStreamHandlers {
  row(row: AuditRow): void;
  /** The daemon skipped rows from..to (further back than its backlog goes). */
  gap?(from: number, to: number): void;
}

/**
 * Follow the stream for as long as the daemon serves it: rows in id order, each once,
 * reconnecting with `after` when the daemon dropped this reader for being slow, and from
 * the start when the log was replaced by a fresh one (its ids start again). Resolves
 * with the id of the last row handed out (or `req.after`) once the daemon stops or cannot
 * be reached; rejects when it refuses the query.
 */
export async function followEventStream(socketPath: string, req: EventStreamRequest, handlers: EventStreamHandlers): Promise<number | undefined> {
  let cursor = req.after;
  for (;;) {
    let ws: WebSocket;
    try {
      ws = await connectEventStream(socketPath, { ...req, after: cursor });
    } catch (e) {
      if (e instanceof CelistraError && e.code === 'E_DAEMON') return cursor;
      throw e;
    }
    const code = await new Promise<number>((resolve) => {
      ws.on('message', (data: Buffer) => {
        const msg = JSON.parse(data.toString('utf8')) as { event?: AuditRow; gap?: { from: number; to: number } };
        if (msg.event && (cursor === undefined || msg.event.id > cursor)) {
          cursor = msg.event.id;
          handlers.row(msg.event);
        } else if (msg.gap) {
          handlers.gap?.(msg.gap.from, msg.gap.to);
        }
      });
      ws.on('close', (closeCode) => resolve(closeCode));
      ws.on('error', () => ws.terminate());
      ws.resume();
    });
    if (code === CLOSE_LOG_REPLACED) cursor = 0;
    else if (code !== CLOSE_TOO_SLOW) return cursor;
  }
}
