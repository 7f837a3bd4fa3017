import type { DiffCounts, DiffStat } from './diff-stat.js';

/** A running agent's stat is computed again at most this often, and only when its output moved. */
export const DEFAULT_STAT_INTERVAL_MS = 5_000;
/**
 * After failed computations the interval doubles per failure in a row, up to this: a stat
 * that fails by git's time limit (an agent's FIFO where git reads) held a worker 20 s each
 * time, and an agent that keeps printing would have it retried every interval.
 */
export const MAX_FAILED_STAT_INTERVAL_MS = 5 * 60_000;

export interface DiffStatTrackerOptions {
  /** Compute an agent's counts (null: not a task worktree); runs git off the event loop. */
  compute(workspace: string): Promise<DiffCounts | null>;
  /** The agent's workspace; undefined once it is removed. */
  workspaceOf(agent: string): string | undefined;
  /** An agent's stat changed (null: not in a task worktree). */
  publish(agent: string, stat: DiffStat | null): void;
  intervalMs?: number;
  /** At most this many stats computed at once (the rest wait their turn). */
  concurrency?: number;
  now?: () => number;
}

interface Entry {
  workspace: string;
  /** undefined until the first answer; null: not in a task worktree (never asked again). */
  stat: DiffStat | null | undefined;
  startedAt: number;
  running: boolean;
  /** Output moved since the last computation started. */
  dirty: boolean;
  /** An exit, restart or pull: compute as soon as a slot is free, whatever the interval. */
  urgent: boolean;
  /** Computations that failed in a row: each doubles the periodic interval (MAX_FAILED_STAT_INTERVAL_MS). */
  failures: number;
  waiting: boolean;
  timer?: NodeJS.Timeout;
}

/**
 * The fleet's diff stats: one cached stat per agent, computed again when the agent
 * exits, restarts or is pulled, and while it runs at most once per interval and only
 * when its output moved. A bounded number are computed at once, so a hundred busy agents
 * queue instead of forking a hundred gits. Changes are published, unchanged ones are not.
 */
export class DiffStatTracker {
  private readonly entries = new Map<string, Entry>();
  private readonly ready: string[] = [];
  private inFlight = 0;
  private closed = false;
  private readonly intervalMs: number;
  private readonly concurrency: number;
  private readonly now: () => number;

  constructor(private readonly opts: DiffStatTrackerOptions) {
    this.intervalMs = opts.intervalMs ?? DEFAULT_STAT_INTERVAL_MS;
    this.concurrency = Math.max(1, opts.concurrency ?? 1);
    this.now = opts.now ?? Date.now;
  }

  /** The cached stat (null: not in a task worktree); an agent seen for the first time is queued. */
  get(agent: string): DiffStat | null {
    const entry = this.entries.get(agent) ?? this.enrol(agent);
    if (!entry) return null;
    return entry.stat === undefined ? { status: 'pending' } : entry.stat;
  }

  /** The agent printed something: its files may have changed. Cheap: called for every output chunk. */
  outputMoved(agent: string): void {
    const entry = this.entries.get(agent);
    if (!entry || entry.stat === null) return;
    entry.dirty = true;
    if (!entry.running && !entry.waiting && !entry.timer) this.schedule(agent, entry);
  }

  /** The agent exited, restarted, was spawned or pulled: compute its stat at the next free slot. */
  refreshNow(agent: string): void {
    const entry = this.entries.get(agent) ?? this.enrol(agent);
    if (!entry || entry.stat === null) return;
    entry.urgent = true;
    if (entry.running) return;
    clearTimeout(entry.timer);
    entry.timer = undefined;
    this.enqueue(agent, entry);
  }

  forget(agent: string): void {
    const entry = this.entries.get(agent);
    if (!entry) return;
    clearTimeout(entry.timer);
    this.entries.delete(agent);
    const at = this.ready.indexOf(agent);
    if (at !== -1) this.ready.splice(at, 1);
  }

  /** Waiting and running computations (for the benchmark and tests). */
  get load(): { waiting: number; running: number } {
    return { waiting: this.ready.length, running: this.inFlight };
  }

  close(): void {
    this.closed = true;
    for (const entry of this.entries.values()) clearTimeout(entry.timer);
    this.ready.length = 0;
  }

  private enrol(agent: string): Entry | undefined {
    const workspace = this.opts.workspaceOf(agent);
    if (workspace === undefined || this.closed) return undefined;
    const entry: Entry = { workspace, stat: undefined, startedAt: 0, running: false, dirty: false, urgent: true, waiting: false, failures: 0 };
    this.entries.set(agent, entry);
    this.enqueue(agent, entry);
    return entry;
  }

  private schedule(agent: string, entry: Entry): void {
    const interval = entry.failures === 0 ? this.intervalMs : Math.min(this.intervalMs * 2 ** entry.failures, Math.max(this.intervalMs, MAX_FAILED_STAT_INTERVAL_MS));
    const wait = entry.startedAt + interval - this.now();
    if (wait <= 0) return this.enqueue(agent, entry);
    entry.timer = setTimeout(() => {
      entry.timer = undefined;
      if (this.entries.get(agent) === entry) this.enqueue(agent, entry);
    }, wait);
    entry.timer.unref();
  }

  private enqueue(agent: string, entry: Entry): void {
    if (entry.waiting || this.closed) return;
    entry.waiting = true;
    // Exits, restarts and pulls go ahead of the periodic refreshes.
    if (entry.urgent) this.ready.unshift(agent);
    else this.ready.push(agent);
    this.drain();
  }

  private drain(): void {
    while (!this.closed && this.inFlight < this.concurrency && this.ready.length > 0) {
      const agent = this.ready.shift()!;
      const entry = this.entries.get(agent);
      if (!entry) continue;
      entry.waiting = false;
      void this.compute(agent, entry);
    }
  }

  private async compute(agent: string, entry: Entry): Promise<void> {
    this.inFlight++;
    entry.running = true;
    entry.dirty = false;
    entry.urgent = false;
    entry.startedAt = this.now();
    let stat: DiffStat | null;
    try {
      const counts = await this.opts.compute(entry.workspace);
      stat = counts === null ? null : { status: 'ok', ...counts, at: this.now() };
      entry.failures = 0;
    } catch (e) {
      stat = { status: 'failed', reason: e instanceof Error ? e.message : String(e), at: this.now() };
      entry.failures++;
    }
    this.inFlight--;
    entry.running = false;
    if (this.closed) return;
    if (this.entries.get(agent) !== entry || this.opts.workspaceOf(agent) === undefined) {
      this.forget(agent);
    } else {
      const changed = !sameStat(entry.stat, stat);
      entry.stat = stat;
      if (changed) this.opts.publish(agent, stat);
      if (stat !== null && entry.urgent) this.enqueue(agent, entry);
      else if (stat !== null && entry.dirty) this.schedule(agent, entry);
    }
    this.drain();
  }
}

/** Equal apart from when it was computed. */
function sameStat(a: DiffStat | null | undefined, b: DiffStat | null): boolean {
  if (a === undefined || a === null || b === null) return a === b;
  const { at: _a, ...restA } = a as DiffStat & { at?: number };
  const { at: _b, ...restB } = b as DiffStat & { at?: number };
  return JSON.stringify(restA) === JSON.stringify(restB);
}
