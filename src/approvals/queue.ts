import { createHash, randomBytes } from 'node:crypto';
import { watch, type FSWatcher } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CelistraError } from '../policy/errors.js';
import type { CelistraPaths } from '../policy/paths.js';
import { CHANNEL_ENV, parseAsk, type ApprovalAnswerer, type ApprovalAsk } from './protocol.js';
import { redactInput, redactText } from './redact.js';
import { toView, type ApprovalRequest, type ApprovalView } from './request.js';
import { decideByRules, subjectOf, type ApprovalRules } from './rules.js';
import { createSpool, removeSpool, spoolFor, sweepSpool, writeAnswer, type RunSpool } from './spool.js';
import type { ApprovalStore } from './store.js';

/** Where approval events go (the audit log). */
export interface ApprovalAudit {
  record(event: { type: 'approval'; agent?: string; data: Record<string, unknown> }): void;
}

/** What the queue needs to know about a run when it starts (or is found again after a daemon restart). */
export interface RunInfo {
  agent: string;
  runId: string;
  task: string;
  branch: string | null;
  rules: ApprovalRules;
}

export type ApprovalEvent = { type: 'request' | 'decision'; approval: ApprovalView };

/**
 * How a hook inside the fence runs `celistra ask` without relying on PATH: this node and
 * this CLI (docs/approvals.md, the claude preset's PreToolUse hook).
 */
const ASK_COMMAND_ENV = {
  CELISTRA_NODE: process.execPath,
  CELISTRA_CLI: fileURLToPath(new URL('../cli/main.js', import.meta.url)),
};

/** Limits per agent run, so that a flooding agent costs the daemon a bounded amount. */
export const LIMITS = {
  /** Pending requests one run may have; more are refused. */
  pendingPerRun: 32,
  /** Token bucket: a burst of this many requests, then this many per second. */
  burst: 30,
  perSecond: 2,
  /** How often every spool is swept even without a file-system event. */
  sweepMs: 1000,
  /** Decided requests kept for `approvals --all`. */
  history: 500,
};

interface Run extends RunInfo {
  spool: RunSpool;
  watcher?: FSWatcher;
  sweeping: boolean;
  again: boolean;
  tokens: number;
  tokensAt: number;
}

export interface AnswerOptions {
  by: ApprovalAnswerer;
  reason?: string;
  /** Also approve the same question from this agent from now on (its fingerprint). */
  always?: boolean;
}

/**
 * The daemon's one queue of approval requests. Requests come in through each run's
 * spool (spool.ts); answers come from the API (CLI, dashboard, a phone's action) or a
 * rule. The first answer wins; later ones are refused as stale. Every request, decision,
 * expiry and drop is an audit event.
 */
export class ApprovalQueue {
  private readonly runs = new Map<string, Run>();
  private readonly pending = new Map<string, ApprovalRequest>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly listeners = new Set<(e: ApprovalEvent) => void>();
  /** Pending requests found in the store at start, until their run is found again. */
  private readonly recovered: ApprovalRequest[];
  private readonly sweepTimer: NodeJS.Timeout;
  private closed = false;

  constructor(
    private readonly paths: CelistraPaths,
    private readonly store: ApprovalStore,
    private readonly audit: ApprovalAudit,
    private readonly now: () => number = Date.now,
  ) {
    this.recovered = store.pending();
    this.sweepTimer = setInterval(() => {
      for (const run of this.runs.values()) this.sweep(run);
    }, LIMITS.sweepMs);
    this.sweepTimer.unref();
  }

  /** A new run's spool, and what its policy must grant: the spool writable, its answers read-only, the env var. */
  openRun(runId: string): { dir: string; answersDir: string; env: Record<string, string> } {
    const spool = createSpool(this.paths, runId);
    return { ...spool, env: { [CHANNEL_ENV]: spool.dir, ...ASK_COMMAND_ENV } };
  }

  /** The run could not start after all: its spool goes. */
  discardRun(runId: string): void {
    removeSpool(spoolFor(this.paths, runId));
  }

  /** A run started (or, after a daemon restart, was found running): watch its spool. */
  runStarted(info: RunInfo): void {
    const spool = spoolFor(this.paths, info.runId);
    const run: Run = { ...info, spool, sweeping: false, again: false, tokens: LIMITS.burst, tokensAt: this.now() };
    this.runs.set(info.runId, run);
    for (const r of this.recovered.filter((x) => x.runId === info.runId)) {
      this.recovered.splice(this.recovered.indexOf(r), 1);
      this.pending.set(r.id, r);
      this.scheduleExpiry(r);
    }
    try {
      run.watcher = watch(spool.dir, () => this.sweep(run));
      run.watcher.on('error', () => undefined);
    } catch {
      // No inotify watch left: the periodic sweep still picks requests up, a little later.
    }
    this.sweep(run);
  }

  /** The run ended: its pending requests go stale (nobody waits for them), its spool is removed. */
  runEnded(runId: string): void {
    const run = this.runs.get(runId);
    if (run) {
      run.watcher?.close();
      this.runs.delete(runId);
    }
    for (const r of [...this.pending.values()]) {
      if (r.runId === runId) this.decide(r, 'stale', { by: 'daemon', reason: 'the agent run that asked has ended' });
    }
    removeSpool(spoolFor(this.paths, runId));
  }

  /** After the supervisor found its running agents again: pending requests of runs that ended meanwhile are stale. */
  finishRecovery(): void {
    for (const r of this.recovered.splice(0)) {
      r.state = 'stale';
      r.decidedAt = this.now();
      r.by = 'daemon';
      r.reason = 'the agent run that asked ended while the daemon was down';
      this.store.save(r);
      this.auditDecision(r);
    }
  }

  /** The agent's pending requests, for `ctl ls`: how many, and since when the oldest waits. */
  waiting(agent: string): { count: number; oldestAt: number } | undefined {
    let count = 0;
    let oldestAt = Infinity;
    for (const r of this.pending.values()) {
      if (r.agent !== agent) continue;
      count++;
      oldestAt = Math.min(oldestAt, r.created);
    }
    return count ? { count, oldestAt } : undefined;
  }

  list(): ApprovalView[] {
    return [...this.pending.values()].sort((a, b) => a.created - b.created).map(toView);
  }

  /** Pending and recently decided, oldest first. */
  history(limit = 100): ApprovalView[] {
    return this.store.recent(limit).map(toView);
  }

  get(id: string): ApprovalView {
    const r = this.pending.get(id) ?? this.store.recent(LIMITS.history).find((x) => x.id === id);
    if (!r) throw new CelistraError('E_NOT_FOUND', `no approval request ${JSON.stringify(id)}`, '`celistra approvals` lists the pending ones');
    return toView(r);
  }

  /** A person's (or a phone's) answer. The first answer wins: a request no longer pending is a conflict. */
  answer(id: string, decision: 'approved' | 'denied', opts: AnswerOptions): ApprovalView {
    const r = this.pending.get(id);
    if (!r) {
      const known = this.store.recent(LIMITS.history).find((x) => x.id === id);
      if (!known) throw new CelistraError('E_NOT_FOUND', `no approval request ${JSON.stringify(id)}`, '`celistra approvals` lists the pending ones');
      throw new CelistraError('E_CONFLICT', `request ${id} is already ${known.state}${known.by ? ` (by ${known.by})` : ''}`, 'the first answer wins');
    }
    if (decision === 'approved' && opts.always) this.store.addAlways(r.agent, r.fingerprint);
    this.decide(r, decision, opts);
    return toView(r);
  }

  subscribe(listener: (e: ApprovalEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** `ctl rm`: the agent's standing approvals go with it. */
  forgetAgent(agent: string): void {
    this.store.forgetAgent(agent);
  }

  close(): void {
    this.closed = true;
    clearInterval(this.sweepTimer);
    for (const t of this.timers.values()) clearTimeout(t);
    for (const run of this.runs.values()) run.watcher?.close();
    this.runs.clear();
    this.listeners.clear();
  }

  /** One sweep at a time per run; an event during a sweep asks for another right after. */
  private sweep(run: Run): void {
    if (this.closed) return;
    if (run.sweeping) {
      run.again = true;
      return;
    }
    run.sweeping = true;
    run.again = false;
    void sweepSpool(run.spool)
      .then((entries) => {
        const dropped: Record<string, number> = {};
        const drop = (reason: string) => (dropped[reason] = (dropped[reason] ?? 0) + 1);
        for (const e of entries) {
          if (!this.runs.has(run.runId)) break;
          if ('dropped' in e) drop(e.dropped);
          else this.take(run, e.key, e.text, drop);
        }
        // One event per sweep, however many files: a flood cannot flood the audit log.
        if (Object.keys(dropped).length) this.audit.record({ type: 'approval', agent: run.agent, data: { action: 'dropped', runId: run.runId, dropped } });
      })
      .catch(() => undefined)
      .finally(() => {
        run.sweeping = false;
        if (run.again && this.runs.has(run.runId)) this.sweep(run);
      });
  }

  private take(run: Run, key: string, text: string, drop: (reason: string) => void): void {
    const refuse = (reason: string) => {
      drop(reason);
      writeAnswer(run.spool, key, { v: 1, id: '', state: 'refused', reason, by: 'daemon' });
    };
    const ask = parseAsk(text);
    if (typeof ask === 'string') return refuse(`malformed request: ${ask}`);
    if (!this.takeToken(run)) return refuse(`rate limit: at most ${LIMITS.burst} requests at once, then ${LIMITS.perSecond} a second`);
    const fingerprint = fingerprintOf(ask);
    const same = [...this.pending.values()].find((r) => r.runId === run.runId && r.fingerprint === fingerprint);
    if (same) {
      same.asks++;
      same.keys.push(key);
      this.store.save(same);
      writeAnswer(run.spool, key, { v: 1, id: same.id, state: 'pending' });
      return;
    }
    if ([...this.pending.values()].filter((r) => r.runId === run.runId).length >= LIMITS.pendingPerRun) {
      return refuse(`too many pending requests (${LIMITS.pendingPerRun}) from this agent run`);
    }
    const now = this.now();
    const r: ApprovalRequest = {
      id: this.newId(),
      agent: run.agent,
      runId: run.runId,
      task: run.task,
      branch: run.branch,
      tool: ask.tool,
      text: redactText(ask.text),
      detail: ask.detail === undefined ? null : redactText(ask.detail),
      input: ask.input === undefined ? null : (redactInput(ask.input) as Record<string, unknown>),
      created: now,
      expires: now + ask.timeoutSec * 1000,
      state: 'pending',
      asks: 1,
      decidedAt: null,
      by: null,
      reason: null,
      fingerprint,
      keys: [key],
    };
    this.audit.record({ type: 'approval', agent: r.agent, data: { action: 'requested', ...auditFields(r) } });
    const rule = this.store.isAlways(r.agent, fingerprint) ? 'allow' : decideByRules(run.rules, ask.tool, subjectOf(ask.tool, ask.input, ask.text));
    if (rule !== 'person') {
      this.decide(r, rule === 'allow' ? 'approved' : 'denied', { by: 'rule', reason: rule === 'allow' ? 'allowed by the agent\'s rules' : 'denied by the agent\'s rules' });
      return;
    }
    this.pending.set(r.id, r);
    this.store.save(r);
    writeAnswer(run.spool, key, { v: 1, id: r.id, state: 'pending' });
    this.scheduleExpiry(r);
    this.emit({ type: 'request', approval: toView(r) });
  }

  private decide(r: ApprovalRequest, state: 'approved' | 'denied' | 'expired' | 'stale', opts: AnswerOptions): void {
    this.pending.delete(r.id);
    clearTimeout(this.timers.get(r.id));
    this.timers.delete(r.id);
    r.state = state;
    r.decidedAt = this.now();
    r.by = opts.by;
    r.reason = opts.reason ?? null;
    this.store.save(r);
    this.store.prune(LIMITS.history);
    const run = this.runs.get(r.runId);
    if (run) for (const key of r.keys) writeAnswer(run.spool, key, { v: 1, id: r.id, state, by: opts.by, ...(opts.reason ? { reason: opts.reason } : {}) });
    this.auditDecision(r, opts.always);
    this.emit({ type: 'decision', approval: toView(r) });
  }

  private auditDecision(r: ApprovalRequest, always?: boolean): void {
    this.audit.record({
      type: 'approval',
      agent: r.agent,
      data: { action: r.state, id: r.id, task: r.task, tool: r.tool, by: r.by, ...(r.reason ? { reason: r.reason } : {}), ...(always ? { always: true } : {}), waitedMs: (r.decidedAt ?? r.created) - r.created },
    });
  }

  private scheduleExpiry(r: ApprovalRequest): void {
    const t = setTimeout(() => {
      if (this.pending.get(r.id) === r) this.decide(r, 'expired', { by: 'daemon', reason: 'nobody answered in time: denied' });
    }, Math.max(0, r.expires - this.now()));
    t.unref();
    this.timers.set(r.id, t);
  }

  private takeToken(run: Run): boolean {
    const now = this.now();
    run.tokens = Math.min(LIMITS.burst, run.tokens + ((now - run.tokensAt) / 1000) * LIMITS.perSecond);
    run.tokensAt = now;
    if (run.tokens < 1) return false;
    run.tokens -= 1;
    return true;
  }

  private newId(): string {
    for (;;) {
      const id = randomBytes(4).toString('hex');
      if (!this.pending.has(id)) return id;
    }
  }

  private emit(e: ApprovalEvent): void {
    for (const l of this.listeners) {
      try {
        l(e);
      } catch {
        // A listener's failure (a closed socket) is its own.
      }
    }
  }
}

function fingerprintOf(ask: ApprovalAsk): string {
  return createHash('sha256').update(JSON.stringify([ask.tool, ask.input ?? null, ask.text])).digest('hex').slice(0, 32);
}

function auditFields(r: ApprovalRequest): Record<string, unknown> {
  return { id: r.id, runId: r.runId, task: r.task, branch: r.branch, tool: r.tool, text: r.text, ...(r.input ? { input: r.input } : {}), expires: r.expires };
}
