import { request } from 'node:http';
import type WebSocket from 'ws';
import type { AgentSummary } from './agent-spec.js';
import type { CelistraPaths } from '../policy/paths.js';
import { openDaemonWebSocket, parseAnswer } from './answer.js';
import { unreachable } from './unreachable.js';
import { socketPath } from './server.js';
import { connectTrusted } from './socket-trust.js';

/** The /v1 API over the daemon's unix socket, as the CLI uses it. */
export class DaemonClient {
  readonly socketPath: string;

  constructor(paths: CelistraPaths) {
    this.socketPath = socketPath(paths);
  }

  async raw(method: string, path: string, body?: unknown): Promise<{ status: number; body: Buffer }> {
    // Checked before a byte is sent: the socket and its directory are ours, and so is the
    // process listening on it (socket-trust.ts).
    // The checked connection only vouches for the listener: the request goes on a fresh
    // one, as Node's client makes it (a body the daemon refuses mid-way, 413, is then
    // answered rather than cut short by EPIPE). Nobody else can swap the socket between
    // the two: it sits in a directory only we can write (checkRuntimeDir).
    (await connectTrusted(this.socketPath, `reaching the daemon at ${this.socketPath}`)).destroy();
    return new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
      const req = request(
        {
          socketPath: this.socketPath,
          // Never a pooled connection: Node 20's keep-alive agent reused sockets the daemon
          // had closed after 5 s idle, and a call made just then failed with EPIPE.
          agent: false,
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
      req.on('error', (e: NodeJS.ErrnoException) => reject(unreachable(this.socketPath, e, `reaching the daemon at ${this.socketPath}`)));
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
    return openDaemonWebSocket(this.socketPath, `/v1/agents/${encodeURIComponent(name)}/attach?${params}`, 'attach');
  }
}
