import { request } from 'node:http';
import WebSocket from 'ws';
import type { AgentSummary } from '../core/agent-spec.js';
import { CelistraError, type ErrorCode } from '../core/errors.js';
import type { CelistraPaths } from '../core/paths.js';
import type { ApiError } from './http-error.js';
import { socketPath } from './server.js';

const NOT_RUNNING_HINT = 'start it with `celistra daemon start` (or run `celistra daemon` in another terminal)';

/** The /v1 API over the daemon's unix socket, as the CLI uses it. */
export class DaemonClient {
  readonly socketPath: string;

  constructor(paths: CelistraPaths) {
    this.socketPath = socketPath(paths);
  }

  raw(method: string, path: string, body?: unknown): Promise<{ status: number; body: Buffer }> {
    return new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
      const req = request(
        {
          socketPath: this.socketPath,
          method,
          path,
          headers: payload ? { 'content-type': 'application/json', 'content-length': payload.length } : {},
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
          res.on('error', reject);
        },
      );
      req.on('error', (e: NodeJS.ErrnoException) => {
        if (e.code === 'ENOENT' || e.code === 'ECONNREFUSED') {
          reject(new CelistraError('E_DAEMON', `the Celistra daemon is not running (no socket at ${this.socketPath})`, NOT_RUNNING_HINT));
        } else {
          reject(new CelistraError('E_DAEMON', `cannot reach the daemon at ${this.socketPath}: ${e.message}`));
        }
      });
      req.end(payload);
    });
  }

  /** A JSON call; an error answer becomes the CelistraError the daemon described. */
  async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await this.raw(method, path, body);
    return parseAnswer<T>(res.status, res.body);
  }

  listAgents(): Promise<AgentSummary[]> {
    return this.call<{ agents: AgentSummary[] }>('GET', '/v1/agents').then((r) => r.agents);
  }

  async logs(name: string, bytes?: number): Promise<Buffer> {
    const q = bytes === undefined ? '' : `?bytes=${bytes}`;
    const res = await this.raw('GET', `/v1/agents/${encodeURIComponent(name)}/logs${q}`);
    if (res.status !== 200) return parseAnswer<never>(res.status, res.body);
    return res.body;
  }

  /**
   * Open the attach WebSocket; rejects with the daemon's error when it refuses. The
   * socket comes back paused — the screen may already be on its way, and a message
   * emitted before the caller's listener exists would be lost — so call resume() once
   * the listeners are in place.
   */
  attach(name: string, query: Record<string, string | number | undefined>): Promise<WebSocket> {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined) params.set(k, String(v));
    const url = `ws+unix://${this.socketPath}:/v1/agents/${encodeURIComponent(name)}/attach?${params}`;
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { perMessageDeflate: false });
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
          } catch (e) {
            reject(e);
          }
        });
      });
      ws.once('error', (e: NodeJS.ErrnoException) => {
        if (e.code === 'ENOENT' || e.code === 'ECONNREFUSED') reject(new CelistraError('E_DAEMON', `the Celistra daemon is not running (no socket at ${this.socketPath})`, NOT_RUNNING_HINT));
        else reject(new CelistraError('E_DAEMON', `attach failed: ${e.message}`));
      });
    });
  }
}

function parseAnswer<T>(status: number, body: Buffer): T {
  let parsed: unknown;
  try {
    parsed = body.length ? JSON.parse(body.toString('utf8')) : {};
  } catch {
    throw new CelistraError('E_DAEMON', `the daemon answered ${status} with a body that is not JSON`);
  }
  if (status >= 200 && status < 300) return parsed as T;
  const err = (parsed as Partial<ApiError>).error;
  if (err && typeof err.message === 'string') throw new CelistraError((err.code as ErrorCode) ?? 'E_DAEMON', err.message, err.hint);
  throw new CelistraError('E_DAEMON', `the daemon answered ${status}`);
}
