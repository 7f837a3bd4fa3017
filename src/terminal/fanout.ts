/**
 * One agent's output fanned out to any number of clients, each with its own
 * backpressure: a client whose send queue grows past HIGH_WATER stops receiving live
 * output; once it drains below LOW_WATER it is resynced from the screen model (a fresh
 * screen, then live again). A client that stays stuck is dropped. Nothing a client does
 * can stall the agent or the other clients.
 */
export interface FanoutClient {
  /** Bytes queued to this client and not yet written to its socket. */
  bufferedAmount(): number;
  /** Live output (raw terminal bytes). */
  sendOutput(data: Buffer): void;
  /** The first payload: a screen to redraw (or scrollback), then its tail. */
  sendStart(start: StartPayload, reason: 'attach' | 'resync'): void;
  close(code: number, reason: string): void;
}

export interface StartPayload {
  kind: 'screen' | 'logs';
  /** For screens: text that redraws the screen; for logs: empty. */
  screen: string;
  cols: number;
  rows: number;
  /** Bytes that follow the screen (output after the snapshot point, or the scrollback). */
  bytes: Buffer;
}

/** Fetch a start payload; `done` must run before any later output is broadcast. */
export type StartProvider = (reason: 'attach' | 'resync', done: (start: StartPayload | undefined) => void) => void;

/** `held`: the client asked for no output for now (it is behind on its own side, or hidden). */
type ClientState = 'waiting' | 'live' | 'lagging' | 'held';

interface Entry {
  state: ClientState;
  provider: StartProvider;
  laggingSince: number;
}

export const FANOUT_HIGH_WATER = 1024 * 1024;
export const FANOUT_LOW_WATER = 64 * 1024;
export const FANOUT_STUCK_MS = 30_000;
const LAG_CHECK_MS = 50;

export class Fanout {
  private readonly clients = new Map<FanoutClient, Entry>();
  private lagTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly limits = { high: FANOUT_HIGH_WATER, low: FANOUT_LOW_WATER, stuckMs: FANOUT_STUCK_MS },
  ) {}

  get size(): number {
    return this.clients.size;
  }

  add(client: FanoutClient, provider: StartProvider): void {
    const entry: Entry = { state: 'waiting', provider, laggingSince: 0 };
    this.clients.set(client, entry);
    this.start(client, entry, 'attach');
  }

  remove(client: FanoutClient): void {
    this.clients.delete(client);
    if (this.clients.size === 0) this.stopLagTimer();
  }

  broadcast(data: Buffer): void {
    for (const [client, entry] of this.clients) {
      if (entry.state !== 'live') continue;
      if (client.bufferedAmount() > this.limits.high) {
        entry.state = 'lagging';
        entry.laggingSince = Date.now();
        this.startLagTimer();
        continue;
      }
      client.sendOutput(data);
    }
  }

  /**
   * The client asks to be sent nothing for now: a browser tab whose terminal is behind in
   * drawing, or hidden. It comes back with resync(). Ignored while a screen is on its
   * way to it (it asks again once it has the screen).
   */
  hold(client: FanoutClient): void {
    const entry = this.clients.get(client);
    if (entry && entry.state !== 'waiting') entry.state = 'held';
  }

  /** The client asks for the current screen afresh, then live output again (ignored while one is on its way). */
  resync(client: FanoutClient): void {
    const entry = this.clients.get(client);
    if (entry && entry.state !== 'waiting') this.start(client, entry, 'resync');
  }

  /** Close every client (the agent ended, or the daemon stops). */
  closeAll(code: number, reason: string): void {
    for (const client of [...this.clients.keys()]) {
      this.clients.delete(client);
      client.close(code, reason);
    }
    this.stopLagTimer();
  }

  private start(client: FanoutClient, entry: Entry, reason: 'attach' | 'resync'): void {
    entry.state = 'waiting';
    entry.provider(reason, (payload) => {
      if (this.clients.get(client) !== entry) return;
      if (!payload) {
        this.remove(client);
        client.close(1011, 'agent output unavailable');
        return;
      }
      client.sendStart(payload, reason);
      entry.state = 'live';
    });
  }

  private startLagTimer(): void {
    if (this.lagTimer) return;
    this.lagTimer = setInterval(() => this.checkLagging(), LAG_CHECK_MS);
    this.lagTimer.unref();
  }

  private stopLagTimer(): void {
    if (this.lagTimer) clearInterval(this.lagTimer);
    this.lagTimer = undefined;
  }

  private checkLagging(): void {
    let lagging = 0;
    const now = Date.now();
    for (const [client, entry] of this.clients) {
      if (entry.state !== 'lagging') continue;
      if (client.bufferedAmount() <= this.limits.low) {
        this.start(client, entry, 'resync');
      } else if (now - entry.laggingSince > this.limits.stuckMs) {
        this.remove(client);
        client.close(4008, 'client too slow: dropped');
      } else {
        lagging++;
      }
    }
    if (lagging === 0) this.stopLagTimer();
  }
}
