import WebSocket from 'ws';
import { CelistraError, type ErrorCode } from '../policy/errors.js';
import type { ApiError } from './http-error.js';
import { printable } from '../text/printable.js';
import { unreachable } from './unreachable.js';

/** A JSON answer of the API; an error answer becomes the CelistraError the daemon described. */
export function parseAnswer<T>(status: number, body: Buffer): T {
  let parsed: unknown;
  try {
    parsed = body.length ? JSON.parse(body.toString('utf8')) : {};
  } catch {
    throw new CelistraError('E_DAEMON', `the daemon answered ${status} with a body that is not JSON`);
  }
  if (status >= 200 && status < 300) return parsed as T;
  const err = (parsed as Partial<ApiError>).error;
  // The message may quote what an agent controls (its name, a path): printed escaped.
  if (err && typeof err.message === 'string') throw new CelistraError((err.code as ErrorCode) ?? 'E_DAEMON', printable(err.message), err.hint === undefined ? undefined : printable(String(err.hint)));
  throw new CelistraError('E_DAEMON', `the daemon answered ${status}`);
}

/**
 * Open a WebSocket at `pathAndQuery` on the daemon's socket; rejects with the daemon's
 * error when it refuses. The socket comes back paused — the daemon may already be
 * sending (a screen, a backlog), and a message emitted before the caller's listener
 * exists would be lost — so call resume() once the listeners are in place.
 */
export async function openDaemonWebSocket(socketPath: string, pathAndQuery: string, what: string): Promise<WebSocket> {
  const { connectTrusted } = await import('./socket-trust.js');
  const sock = await connectTrusted(socketPath, what);
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws+unix://${socketPath}:${pathAndQuery}`, { perMessageDeflate: false, createConnection: () => sock });
    ws.once('open', () => {
      ws.pause();
      resolve(ws);
    });
    ws.once('unexpected-response', (_req, res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        try {
          parseAnswer(res.statusCode ?? 0, Buffer.concat(chunks));
          reject(new CelistraError('E_DAEMON', `the daemon refused the ${what} (${res.statusCode ?? 0})`));
        } catch (e) {
          reject(e);
        }
      });
    });
    ws.once('error', (e: NodeJS.ErrnoException) => reject(unreachable(socketPath, e, what)));
  });
}
