import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { AgentSummary } from './agent-spec.js';
import { requestPath } from './request-path.js';

export const FLEET_STREAM_PATH = '/v1/agents/stream';
/** A client with more than this unsent gets no more changes until it has read most of it; then a fresh snapshot. */
export const FLEET_MAX_UNSENT_BYTES = 1024 * 1024;
/** Below this, a client that fell behind is sent its fresh snapshot. */
const FLEET_LOW_WATER = 64 * 1024;
const RECHECK_MS = 25;
/** A client that reads nothing for this long after falling behind is closed (4008). */
export const FLEET_STALL_MS = 30_000;
export const CLOSE_TOO_SLOW = 4008;

/** The supervisor as the fleet stream sees it. */
export interface FleetSource {
  list(): AgentSummary[];
  has(name: string): boolean;
  describe(name: string): AgentSummary;
  onChange(listener: (name: string) => void): () => void;
}

/**
 * What else changes an agent's row besides the supervisor (its pending approvals, its
 * task's diff stat): each calls the listener with the agent's name, and returns the
 * unsubscription.
 */
export type RowChanges = (listener: (name: string) => void) => () => void;

/**
 * WS /v1/agents/stream (docs/api.md): `{"type":"snapshot","agents":[...]}`, then
 * `{"type":"agent","agent":Agent}` for every agent that appears or changes and
 * `{"type":"removed","name":N}`, sent at the moment of the change (not through the audit
 * log). Each message is the agent's whole state, so a client that falls behind loses
 * nothing by being skipped: it gets a fresh snapshot once it has read what was queued.
 * `decorate` adds what the daemon keeps beside the supervisor (the task's diff stat), as
 * `GET /v1/agents` does.
 */
export function createFleetStream(fleet: FleetSource, rowChanges: RowChanges[] = [], decorate: (a: AgentSummary) => AgentSummary = (a) => a) {
  const wss = new WebSocketServer({ noServer: true, maxPayload: 4096 });
  const clients = new Set<FleetClient>();
  const changed = (name: string) => {
    if (clients.size === 0) return;
    // Serialised once for every client.
    const text = JSON.stringify(fleet.has(name) ? { type: 'agent', agent: decorate(fleet.describe(name)) } : { type: 'removed', name });
    for (const c of clients) c.send(text);
  };
  const unsubscribe = [fleet.onChange(changed), ...rowChanges.map((source) => source(changed))];
  return {
    handles: (req: IncomingMessage) => requestPath(req) === FLEET_STREAM_PATH,
    onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
      socket.on('error', () => socket.destroy());
      wss.handleUpgrade(req, socket, head, (ws) => {
        const client = new FleetClient(ws, () => JSON.stringify({ type: 'snapshot', agents: fleet.list().map(decorate) }));
        clients.add(client);
        ws.on('close', () => {
          client.dispose();
          clients.delete(client);
        });
        client.sendSnapshot();
      });
    },
    close(): void {
      for (const off of unsubscribe) off();
      for (const c of clients) c.close(1001, 'daemon stopping');
      wss.close();
    },
  };
}

export class FleetClient {
  /** Fell behind: changes are skipped until a fresh snapshot replaces them. */
  private behindSince: number | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly ws: WebSocket,
    private readonly snapshot: () => string,
  ) {
    ws.on('error', () => ws.terminate());
    // One-way: client messages are ignored (over 4 KiB closes it, 1009).
    ws.on('message', () => undefined);
  }

  sendSnapshot(): void {
    this.ws.send(this.snapshot());
  }

  send(text: string): void {
    if (this.behindSince !== undefined || this.ws.readyState !== this.ws.OPEN) return;
    if (this.ws.bufferedAmount > FLEET_MAX_UNSENT_BYTES) {
      this.behindSince = Date.now();
      this.timer = setTimeout(this.recheck, RECHECK_MS);
      return;
    }
    this.ws.send(text);
  }

  private readonly recheck = (): void => {
    this.timer = undefined;
    if (this.behindSince === undefined || this.ws.readyState !== this.ws.OPEN) return;
    if (this.ws.bufferedAmount > FLEET_LOW_WATER) {
      if (Date.now() - this.behindSince > FLEET_STALL_MS) {
        this.close(CLOSE_TOO_SLOW, `client too slow: ${this.ws.bufferedAmount} bytes unread for ${FLEET_STALL_MS / 1000} s`);
        return;
      }
      this.timer = setTimeout(this.recheck, RECHECK_MS);
      return;
    }
    this.behindSince = undefined;
    this.sendSnapshot();
  };

  close(code: number, reason: string): void {
    this.dispose();
    this.ws.close(code, reason);
    setTimeout(() => this.ws.terminate(), 1000).unref();
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
