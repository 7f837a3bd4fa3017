/**
 * Rate limiting of denial events: a looping agent can be refused thousands of times a
 * second, and the audit log must stay readable and small. Time is cut into windows; in
 * each, the first denial of an (agent, operation, path) is recorded at once, repeats are
 * only counted, and when the window closes one more event records how many repeats there
 * were. An agent that hits more distinct (operation, path) pairs than `maxKeysPerAgent`
 * in one window gets its further denials folded into a single overflow count.
 */

/** One attributed denial, ready to record. `key` fields decide what counts as a repeat. */
export interface DenialOccurrence {
  agent: string;
  /** The backend that refused (a Celistra backend name). */
  backend: string;
  operation: string;
  path?: string;
  ts: number;
  /** Everything else worth recording with the first occurrence (pid, comm, domain, ...). */
  details: Record<string, unknown>;
}

export interface DenialRecordOut {
  agent: string;
  data: Record<string, unknown>;
}

export interface DenialAggregatorOptions {
  windowMs: number;
  maxKeysPerAgent: number;
  /** Receives each event to record, in order. */
  emit: (event: DenialRecordOut) => void;
}

export const DEFAULT_DENIAL_WINDOW_MS = 10_000;
export const DEFAULT_MAX_KEYS_PER_AGENT = 20;

interface Repeats {
  agent: string;
  backend: string;
  operation: string;
  path?: string;
  count: number;
  firstTs: number;
  lastTs: number;
}

interface Overflow {
  backend: string;
  count: number;
  firstTs: number;
  lastTs: number;
  operations: Set<string>;
}

export class DenialAggregator {
  private readonly repeats = new Map<string, Repeats>();
  private readonly keysPerAgent = new Map<string, number>();
  private readonly overflow = new Map<string, Overflow>();
  private windowStart: number | undefined;

  constructor(private readonly opts: DenialAggregatorOptions) {}

  /** Whether a window is open (something was added since the last close). */
  get open(): boolean {
    return this.windowStart !== undefined;
  }

  add(o: DenialOccurrence): void {
    this.windowStart ??= o.ts;
    const key = `${o.agent}\0${o.backend}\0${o.operation}\0${o.path ?? ''}`;
    const seen = this.repeats.get(key);
    if (seen) {
      seen.count++;
      seen.lastTs = o.ts;
      return;
    }
    const keys = this.keysPerAgent.get(o.agent) ?? 0;
    if (keys >= this.opts.maxKeysPerAgent) {
      const over = this.overflow.get(o.agent) ?? { backend: o.backend, count: 0, firstTs: o.ts, lastTs: o.ts, operations: new Set<string>() };
      over.count++;
      over.lastTs = o.ts;
      over.operations.add(o.operation);
      this.overflow.set(o.agent, over);
      return;
    }
    this.keysPerAgent.set(o.agent, keys + 1);
    const entry: Repeats = { agent: o.agent, backend: o.backend, operation: o.operation, count: 0, firstTs: o.ts, lastTs: o.ts };
    if (o.path !== undefined) entry.path = o.path;
    this.repeats.set(key, entry);
    const data: Record<string, unknown> = { ...o.details, backend: o.backend, operation: o.operation, count: 1 };
    if (o.path !== undefined) data.path = o.path;
    this.opts.emit({ agent: o.agent, data });
  }

  /** Ends the window: records the repeat and overflow counts, and starts afresh. */
  closeWindow(): void {
    const windowMs = this.opts.windowMs;
    for (const r of this.repeats.values()) {
      if (r.count === 0) continue;
      const data: Record<string, unknown> = { backend: r.backend, operation: r.operation, count: r.count, repeated: true, firstTs: r.firstTs, lastTs: r.lastTs, windowMs };
      if (r.path !== undefined) data.path = r.path;
      this.opts.emit({ agent: r.agent, data });
    }
    for (const [agent, o] of this.overflow) {
      this.opts.emit({
        agent,
        data: { backend: o.backend, operation: [...o.operations].sort().join(','), count: o.count, overflow: true, firstTs: o.firstTs, lastTs: o.lastTs, windowMs, distinctLimit: this.opts.maxKeysPerAgent },
      });
    }
    this.repeats.clear();
    this.keysPerAgent.clear();
    this.overflow.clear();
    this.windowStart = undefined;
  }
}
