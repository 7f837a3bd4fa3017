/**
 * One agent's output fanned out to any number of clients, each with its own
 * backpressure: a client whose send queue grows past HIGH_WATER stops receiving live
 * output; once it drains below LOW_WATER it is resynced from the screen model (a fresh
 * screen, then live again). A client that stays stuck is dropped. Nothing a client does
 * can stall the agent or the other clients.
 *
 * A client may also ask for screens instead of bytes (a browser tab that fell behind in
 * drawing): while the output keeps flowing it gets a fresh screen at most every
 * SCREEN_PERIOD_MS, never while its own backlog is over LOW_WATER, and no live output;
 * once a whole period has passed with no output since its last screen it is live again.
 * That last screen and its tail are exact up to the switch, since a provider's `done`
 * runs before any later output is broadcast.
 */
export interface FanoutClient {
  /** Bytes queued to this client and not yet written to its socket. */
  bufferedAmount(): number;
  /** Live output (raw terminal bytes). */
  sendOutput(data: Buffer): void;
  /**
   * A screen to redraw (or scrollback), then its tail: first on attach, then on a resync,
   * and, for a client that asked for screens, one every period while the output flows.
   */
  sendStart(start: StartPayload, reason: StartReason): void;
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

/** Why a start payload is sent: the client attached, fell behind (or asked), or is in screen mode. */
export type StartReason = 'attach' | 'resync' | 'screens';

/**
 * Fetch a start payload; `done` must run before any later output is broadcast. A screen
 * for screen mode is fetched as for a resync.
 */
export type StartProvider = (reason: 'attach' | 'resync', done: (start: StartPayload | undefined) => void) => void;

/**
 * `held`: the client asked for no output for now (it is hidden, or behind on its own side).
 * `screens`: the client asked for screens instead of bytes; it gets no live output.
 */
type ClientState = 'waiting' | 'live' | 'lagging' | 'held' | 'screens';

interface Entry {
  state: ClientState;
  provider: StartProvider;
  /** Since when its backlog has been over the low-water mark (lagging, or in screen mode); 0 when not. */
  laggingSince: number;
  /** It asked for screens: after the screen on its way (if any) it stays in screen mode. */
  screenMode: boolean;
  /** In screen mode: output came, or it asked for a screen, since its last screen. */
  stale: boolean;
  /** When its last start payload was sent (Date.now()); screens are paced from it. */
  lastScreenAt: number;
}

export const FANOUT_HIGH_WATER = 1024 * 1024;
export const FANOUT_LOW_WATER = 64 * 1024;
export const FANOUT_STUCK_MS = 30_000;
/** In screen mode, at most one screen per this period; a period with no output makes the client live again. */
export const SCREEN_PERIOD_MS = 250;
const TICK_MS = 50;

export interface FanoutLimits {
  high: number;
  low: number;
  stuckMs: number;
  /** SCREEN_PERIOD_MS unless given. */
  screenMs?: number;
}

export class Fanout {
  private readonly clients = new Map<FanoutClient, Entry>();
  private timer: NodeJS.Timeout | undefined;
  private readonly screenMs: number;

  constructor(private readonly limits: FanoutLimits = { high: FANOUT_HIGH_WATER, low: FANOUT_LOW_WATER, stuckMs: FANOUT_STUCK_MS }) {
    this.screenMs = limits.screenMs ?? SCREEN_PERIOD_MS;
  }

  get size(): number {
    return this.clients.size;
  }

  add(client: FanoutClient, provider: StartProvider): void {
    const entry: Entry = { state: 'waiting', provider, laggingSince: 0, screenMode: false, stale: false, lastScreenAt: 0 };
    this.clients.set(client, entry);
    this.start(client, entry, 'attach');
  }

  remove(client: FanoutClient): void {
    this.clients.delete(client);
    if (this.clients.size === 0) this.stopTimer();
  }

  broadcast(data: Buffer): void {
    for (const [client, entry] of this.clients) {
      if (entry.state === 'screens') entry.stale = true;
      if (entry.state !== 'live') continue;
      if (client.bufferedAmount() > this.limits.high) {
        entry.state = 'lagging';
        entry.laggingSince = Date.now();
        this.startTimer();
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
    if (!entry || entry.state === 'waiting') return;
    entry.state = 'held';
    entry.screenMode = false;
  }

  /** The client asks for the current screen afresh, then live output again (ignored while one is on its way). */
  resync(client: FanoutClient): void {
    const entry = this.clients.get(client);
    if (!entry || entry.state === 'waiting') return;
    entry.screenMode = false;
    this.start(client, entry, 'resync');
  }

  /**
   * The client asks for screens instead of bytes until the output calms down (a browser
   * tab behind in drawing). It gets no live output from now on, and a screen soon: the
   * one on its way, if any, else the next one its pace allows, even with no output
   * meanwhile (it may have dropped what it had not drawn).
   */
  screens(client: FanoutClient): void {
    const entry = this.clients.get(client);
    if (!entry) return;
    entry.screenMode = true;
    if (entry.state === 'waiting') return;
    // A client already behind keeps its clock: asking (again) does not put off its drop.
    if (entry.state !== 'lagging' && entry.state !== 'screens') entry.laggingSince = 0;
    entry.state = 'screens';
    entry.stale = true;
    this.startTimer();
  }

  /** Close every client (the agent ended, or the daemon stops). */
  closeAll(code: number, reason: string): void {
    for (const client of [...this.clients.keys()]) {
      this.clients.delete(client);
      client.close(code, reason);
    }
    this.stopTimer();
  }

  private start(client: FanoutClient, entry: Entry, reason: StartReason): void {
    entry.state = 'waiting';
    entry.provider(reason === 'attach' ? 'attach' : 'resync', (payload) => {
      if (this.clients.get(client) !== entry) return;
      if (!payload) {
        this.remove(client);
        client.close(1011, 'agent output unavailable');
        return;
      }
      // A client that asked for screens while this one was on its way gets it as its
      // first screen of screen mode.
      client.sendStart(payload, reason === 'attach' || !entry.screenMode ? reason : 'screens');
      entry.lastScreenAt = Date.now();
      if (entry.screenMode) {
        entry.state = 'screens';
        entry.stale = false;
        this.startTimer();
      } else {
        entry.state = 'live';
      }
    });
  }

  private startTimer(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.tick(), TICK_MS);
    this.timer.unref();
  }

  private stopTimer(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Lagging clients: resynced once drained, dropped when stuck. Clients in screen mode: paced screens, then live. */
  private tick(): void {
    let pending = 0;
    const now = Date.now();
    for (const [client, entry] of this.clients) {
      if (entry.state !== 'lagging' && entry.state !== 'screens') continue;
      const drained = client.bufferedAmount() <= this.limits.low;
      if (!drained) {
        if (entry.laggingSince === 0) entry.laggingSince = now;
        if (now - entry.laggingSince > this.limits.stuckMs) {
          this.remove(client);
          client.close(4008, 'client too slow: dropped');
        } else {
          pending++;
        }
        continue;
      }
      entry.laggingSince = 0;
      if (entry.state === 'lagging') {
        this.start(client, entry, 'resync');
      } else if (now - entry.lastScreenAt < this.screenMs) {
        pending++;
      } else if (entry.stale) {
        this.start(client, entry, 'screens');
      } else {
        // A whole period with no output since its last screen: that screen and its tail
        // are the present, and what follows is live.
        entry.screenMode = false;
        entry.state = 'live';
      }
    }
    if (pending === 0) this.stopTimer();
  }
}
