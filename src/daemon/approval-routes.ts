import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { isFromDashboard } from './dashboard/request.js';
import { HttpError, sendJson } from './http-error.js';
import type { ApprovalAnswerer } from '../approvals/protocol.js';
import type { ApprovalQueue } from '../approvals/queue.js';
import { requestPath } from './request-path.js';

export const APPROVALS_STREAM_PATH = '/v1/approvals/stream';
/** A stream client this far behind is cut off rather than buffered for. */
const MAX_UNSENT_BYTES = 1024 * 1024;

/** Who may say they answered over the control socket. `phone` answers come through the push receiver's token; `rule` and `daemon` are the daemon's own. */
const CLIENT_ANSWERERS: ApprovalAnswerer[] = ['cli', 'dashboard'];

/**
 * `/v1/approvals` (docs/api.md, Approvals): list, show, approve, deny. `parts` are the
 * decoded path parts after `/v1/approvals`; `body` reads the JSON body when called.
 */
export async function routeApprovals(
  queue: ApprovalQueue,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  parts: string[],
  body: () => Promise<Record<string, unknown>>,
): Promise<void> {
  const method = req.method ?? 'GET';
  const allow = (...methods: string[]) => {
    if (!methods.includes(method)) throw new HttpError(405, 'E_USAGE', `${method} is not allowed on ${url.pathname} (allowed: ${methods.join(', ')})`);
  };
  const [id, action, ...rest] = parts;
  if (rest.length > 0) throw new HttpError(404, 'E_NOT_FOUND', `no such endpoint ${url.pathname}`);
  if (id === undefined) {
    allow('GET');
    const all = url.searchParams.get('all');
    return sendJson(res, 200, { approvals: all === '1' || all === 'true' ? queue.history() : queue.list() });
  }
  if (id === 'stream') throw new HttpError(426, 'E_USAGE', 'the approvals stream is a WebSocket endpoint: send an Upgrade request');
  if (action === undefined) {
    allow('GET');
    return sendJson(res, 200, { approval: queue.get(id) });
  }
  if (action !== 'approve' && action !== 'deny') throw new HttpError(404, 'E_NOT_FOUND', `no such endpoint ${url.pathname}`);
  allow('POST');
  const b = await body();
  // A browser is the dashboard, whatever its body says: the audit names who really answered.
  const by = isFromDashboard(req) ? 'dashboard' : (b.by ?? 'cli');
  if (typeof by !== 'string' || !(CLIENT_ANSWERERS as string[]).includes(by)) throw new HttpError(400, 'E_USAGE', `"by" must be one of ${CLIENT_ANSWERERS.join(', ')}`);
  const reason = b.reason;
  if (reason !== undefined && (typeof reason !== 'string' || reason.length > 1000)) throw new HttpError(400, 'E_USAGE', '"reason" must be a string of at most 1000 characters');
  if (b.always !== undefined && typeof b.always !== 'boolean') throw new HttpError(400, 'E_USAGE', '"always" must be true or false');
  const approval =
    action === 'approve'
      ? queue.answer(id, 'approved', { by: by as ApprovalAnswerer, always: b.always === true, ...(reason ? { reason } : {}) })
      : queue.answer(id, 'denied', { by: by as ApprovalAnswerer, ...(reason ? { reason } : {}) });
  return sendJson(res, 200, { approval });
}

/** WS /v1/approvals/stream: the pending requests first (`snapshot`), then every new request and decision. */
export function createApprovalStream(queue: ApprovalQueue) {
  const wss = new WebSocketServer({ noServer: true, maxPayload: 4096 });
  const clients = new Set<WebSocket>();
  return {
    handles: (req: IncomingMessage) => requestPath(req) === APPROVALS_STREAM_PATH,
    onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
      socket.on('error', () => socket.destroy());
      wss.handleUpgrade(req, socket, head, (ws) => {
        clients.add(ws);
        const send = (msg: unknown) => {
          if (ws.bufferedAmount > MAX_UNSENT_BYTES) ws.terminate();
          else ws.send(JSON.stringify(msg));
        };
        const unsubscribe = queue.subscribe((e) => send(e));
        ws.on('error', () => ws.terminate());
        ws.on('message', () => undefined);
        ws.on('close', () => {
          unsubscribe();
          clients.delete(ws);
        });
        send({ type: 'snapshot', approvals: queue.list() });
      });
    },
    close(): void {
      for (const ws of clients) ws.close(1001, 'daemon stopping');
      wss.close();
    },
  };
}
