import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import type { AgentExit, AgentRecord, AgentSpec, AgentSummary } from './agent-spec.js';
import { validateAgentName } from './agent-spec.js';
import { StoreWrites, type AgentStore } from './agent-store.js';
import { parseBackendChoice, planLaunch, type BackendChoice } from '../run/backend-selection.js';
import type { LaunchPlan } from '../backends/backend.js';
import { CelistraError } from '../policy/errors.js';
import { Fanout, type FanoutClient, type StartProvider } from '../terminal/fanout.js';
import type { CelistraPaths } from '../policy/paths.js';
import { buildPolicy, type NetworkMode, type Policy, type UnixSocketMode } from '../policy/policy.js';
import { createPrivateTmp, removePrivateTmp } from '../run/private-tmp.js';
import { decideRestart, crashesInWindow, DEFAULT_RESTART_POLICY, type RestartPolicy } from './restart-policy.js';
import { RingBuffer } from '../terminal/ring-buffer.js';
import { holderFiles } from '../holder/config.js';
import { summarizePolicy } from '../audit/index.js';
import type { AgentProcesses } from '../audit/denial-attribution.js';
import { gitGrantsFor, recordedWorktree } from '../worktree/grants.js';
import { layoutOf } from '../worktree/record.js';
import { validateAgentEnv } from './agent-env.js';
import { resolvePreset } from '../policy/presets/default.js';
import { taskName } from './task-name.js';
import { moveLease, recordedCheckout, releaseCheckout, takeCheckout } from '../worktree/lease.js';
import { findWorktree } from '../worktree/lifecycle.js';
import { HolderLink } from '../holder/link.js';
import { launchHolder } from '../holder/launch.js';
import { parseRules, type ApprovalRules } from '../approvals/rules.js';
import { parseLimits } from '../policy/limits.js';
import { parseTerminalAllow } from '../terminal/allow.js';
import { endLimits, limitEvents, putLimitsInForce, wrapPlanWithLimits, type LimitsInForce } from '../run/limits.js';

/** The daemon's approval queue as the supervisor drives it (src/approvals/queue.ts). */
export interface RunApprovals {
  /** Make a run's spool; what its policy must grant. */
  openRun(runId: string): { dir: string; answersDir: string; env: Record<string, string> };
  discardRun(runId: string): void;
  runStarted(info: { agent: string; runId: string; task: string; branch: string | null; rules: ApprovalRules }): void;
  runEnded(runId: string): void;
  waiting(agent: string): { count: number; oldestAt: number } | undefined;
  forgetAgent(agent: string): void;
}
import { isHolderAlive, stopHolder } from '../holder/process.js';

/** Where supervisor events go (the audit log, when present). Never throws into the caller. */
export interface AuditSink {
  record(event: { type: string; agent?: string; data?: Record<string, unknown> }): void;
}

export interface SupervisorOptions {
  paths: CelistraPaths;
  store: AgentStore;
  scrollbackBytes: number;
  restartPolicy?: RestartPolicy;
  audit?: AuditSink;
  /** Environment every agent starts from (the backend adds the policy's). */
  baseEnv?: Record<string, string>;
  approvals?: RunApprovals;
  /** An agent printed something (called for every chunk: keep it cheap). The fleet's diff stats follow it. */
  onOutput?: (agent: string) => void;
}

export interface SpawnRequest {
  name?: string;
  argv: string[];
  workspace?: string;
  backend?: string;
  preset?: string;
  autoRestart?: boolean;
  worktree?: string;
  /** A directory of the repository `worktree` belongs to (the client's cwd). */
  repo?: string;
  network?: NetworkMode;
  unixSockets?: UnixSocketMode;
  /** Absolute or `~/` paths, as `celistra run --allow-write/--deny-read/--allow-read`. */
  allowWrite?: string[];
  denyRead?: string[];
  allowRead?: string[];
  /** Per-agent approval rules (`--approve`, `--auto-allow`, `--auto-deny`). */
  approvals?: unknown;
  /** Variables for this agent only (its model, key, endpoint), over the daemon's environment. */
  env?: Record<string, string>;
  cols?: number;
  rows?: number;
  /** `title`, `clipboard`, `notify` (a list, or one comma-separated string): passed, sanitized, to attached terminals. */
  terminalAllow?: unknown;
  /** Per-agent resource limits (policy/limits.ts): tasks (a number or "unlimited"), memory ("2G"), CPUs (1.5). */
  maxProcs?: unknown;
  memory?: unknown;
  cpu?: unknown;
}

export const KILL_SIGNALS = ['HUP', 'INT', 'TERM', 'QUIT', 'KILL'] as const;
export type KillSignal = (typeof KILL_SIGNALS)[number];

/** How long `restart` waits after SIGTERM before SIGKILL. */
const RESTART_GRACE_MS = 5_000;
const LAST_LINE_BYTES = 4096;
/** How long an ended run's pids still identify its agent: its denials are reported after it. */
const ENDED_RUN_PIDS_MS = 60_000;

/** What the daemon holds in memory per agent beside its persisted record. */
interface Live {
  record: AgentRecord;
  link?: HolderLink;
  fanout: Fanout;
  /** The tail of the output, for the last line shown by `ls` when the holder does not say. */
  recent: RingBuffer;
  /** The last line with text on the holder's screen model (what `ls` shows). */
  screenLastLine?: string;
  cols: number;
  rows: number;
  /** The user asked it to stop: its exit is not a crash. */
  stopRequested: boolean;
  /** The user asked for a restart: start again as soon as it has exited. */
  restartRequested: boolean;
  restartTimer?: NodeJS.Timeout;
  graceTimer?: NodeJS.Timeout;
  /** Set while an exit is being collected, so a second report of it is ignored. */
  collecting: boolean;
  /** The last run's helper and holder pids, kept after it ends (see agentProcesses). */
  lastRunPids?: number[];
  /**
   * The run being started (startRun awaits its holder): a kill or rm meanwhile takes it
   * away, and the run, once its holder is up, stops it instead of going on unsupervised.
   */
  starting?: object;
}

/**
 * The agent fleet: starts each agent run in a holder, reconnects to holders after a
 * daemon restart, applies the restart policy, and routes input, output and signals.
 */
export class Supervisor {
  private readonly agents = new Map<string, Live>();
  private readonly changeListeners = new Set<(name: string) => void>();
  private readonly paths: CelistraPaths;
  private readonly store: AgentStore;
  private readonly restartPolicy: RestartPolicy;
  private stopping = false;
  /** `stopAll` is under way: nothing new starts. */
  private endingAll = false;

  /** Updates that never throw into the supervisor: kept and retried when the disk is full. */
  private readonly writes: StoreWrites;

  constructor(private readonly opts: SupervisorOptions) {
    this.paths = opts.paths;
    this.store = opts.store;
    // Said in the daemon's log: the audit log (its own spool) reports its own losses.
    this.writes = new StoreWrites(opts.store, (what, error) =>
      process.stderr.write(`celistrad: could not save agent state (${what}: ${(error as Error).message}); kept in memory and retried every ${StoreWrites.RETRY_MS / 1000} s\n`),
    );
    this.restartPolicy = opts.restartPolicy ?? DEFAULT_RESTART_POLICY;
  }

  /** Load every persisted agent and reconnect to the holders of running ones. */
  async recover(): Promise<void> {
    for (const record of this.store.all()) {
      const live = this.track(record);
      if (record.state === 'running' && record.runId) {
        await this.reconnect(live);
      } else if (record.state === 'restarting') {
        this.scheduleRestart(live, Math.max(0, (record.restartAt ?? Date.now()) - Date.now()));
      }
    }
  }

  private track(record: AgentRecord): Live {
    const live: Live = {
      record,
      fanout: new Fanout(),
      recent: new RingBuffer(LAST_LINE_BYTES),
      cols: 80,
      rows: 24,
      stopRequested: false,
      restartRequested: false,
      collecting: false,
    };
    this.agents.set(record.spec.name, live);
    return live;
  }

  private async reconnect(live: Live): Promise<void> {
    const files = holderFiles(this.paths, live.record.runId!);
    let link: HolderLink;
    try {
      link = await HolderLink.open(files.socketPath);
    } catch {
      const runId = live.record.runId!;
      let why = 'its holder is gone';
      if (isHolderAlive(live.record.holderPid, runId)) {
        // Alive but not answering: left running, it would be an agent nobody supervises,
        // and recording an exit for it would be false. End it; then the exit is real.
        await stopHolder(live.record.holderPid, runId);
        why = 'its holder did not answer; the daemon stopped it';
      }
      // The holder is gone (killed, or the machine rebooted): its exit file, if any,
      // says how the agent ended; otherwise it was lost with its holder.
      const exit = readExitFile(files.exitPath) ?? { code: null, signal: 'SIGKILL', status: 137, at: Date.now() };
      rmSync(files.exitPath, { force: true });
      this.onExit(live, exit, why);
      return;
    }
    live.cols = link.hello.cols;
    live.rows = link.hello.rows;
    this.approvalsStarted(live.record, live.record.runId!);
    this.bindLink(live, link);
    if (link.hello.exit) this.onExit(live, link.hello.exit, 'exited while the daemon was down');
  }

  private bindLink(live: Live, link: HolderLink): void {
    live.link = link;
    // Output printed before this connection is only in the holder's ring: seed the
    // last-line tail from it. The reply arrives in stream order, so output frames
    // before it are already included and are not added twice.
    let seeded = false;
    live.recent = new RingBuffer(LAST_LINE_BYTES);
    link.logsNow(LAST_LINE_BYTES, (b) => {
      if (b) live.recent.write(b);
      seeded = true;
    });
    link.on('output', (data) => {
      if (seeded) live.recent.write(data);
      live.fanout.broadcast(data);
      this.opts.onOutput?.(live.record.spec.name);
    });
    link.on('lastLine', (line) => {
      if (line === live.screenLastLine) return;
      live.screenLastLine = line;
      this.changed(live.record.spec.name);
    });
    link.on('exit', (exit, scrollback) => this.onExit(live, exit, 'exited', scrollback));
    link.on('close', () => {
      if (live.link !== link || this.stopping || live.collecting) return;
      live.link = undefined;
      const files = holderFiles(this.paths, live.record.runId!);
      const exit = readExitFile(files.exitPath) ?? { code: null, signal: 'SIGKILL', status: 137, at: Date.now() };
      this.onExit(live, exit, 'its holder died');
    });
    // Only now: an exit that came in the hello's chunk is delivered to the listener above.
    link.start();
  }

  /** Check a request and build its spec, policy and plan without starting anything. */
  private prepare(spec: AgentSpec, tmpLabel: string): Prepared {
    // Short: unix socket paths are limited to 107 bytes. The name prefix is for people
    // (a new agent named by its task has no name yet at this point: its label stands in).
    const runId = `${(spec.name || tmpLabel).slice(0, 16)}.${randomUUID().slice(0, 8)}`;
    const spool = this.opts.approvals?.openRun(runId);
    try {
      return { ...this.preparePolicy(spec, tmpLabel, spool), runId };
    } catch (e) {
      if (!spool) throw e;
      this.opts.approvals!.discardRun(runId);
      // The spool's read-only answers dir needs a carve-out that some backends cannot make
      // (Landlock without user namespaces): the agent then runs without approvals, and says so.
      if (!(e instanceof CelistraError) || e.code !== 'E_NO_BACKEND') throw e;
      const prepared = { ...this.preparePolicy(spec, tmpLabel, undefined), runId };
      this.audit('approval', spec.name, { action: 'unavailable', runId, reason: e.message });
      return prepared;
    }
  }

  private preparePolicy(spec: AgentSpec, tmpLabel: string, approvals: ReturnType<RunApprovals['openRun']> | undefined): { plan: LaunchPlan; policy: Policy; tmpDir: string } {
    // As for `celistra run`: a task worktree gets the git grants that let git work in it.
    const git = gitGrantsFor(spec.workspace, (adopted) => {
      this.audit('worktree-adopt', spec.name, { worktree: adopted.path, branch: adopted.branch, adminDir: adopted.adoptedAdminDir });
    });
    const tmpDir = createPrivateTmp(this.paths, tmpLabel);
    try {
      const policy = buildPolicy({
        approvals,
        workspace: spec.workspace,
        preset: spec.preset,
        network: spec.network,
        unixSockets: spec.unixSockets,
        allowWrite: spec.allowWrite,
        denyRead: spec.denyRead,
        allowRead: spec.allowRead,
        tmpDir,
        paths: this.paths,
        git,
      });
      const base = this.opts.baseEnv ?? (process.env as Record<string, string>);
      const plan = planLaunch(spec.backend, policy, spec.argv, spec.env ? { ...base, ...spec.env } : base);
      return { plan, policy, tmpDir };
    } catch (e) {
      removePrivateTmp(tmpDir);
      throw e;
    }
  }

  async spawn(req: SpawnRequest): Promise<AgentSummary> {
    if (this.stopping || this.endingAll) throw new CelistraError('E_DAEMON', 'the daemon is stopping');
    if (!Array.isArray(req.argv) || req.argv.length === 0 || !req.argv.every((a) => typeof a === 'string')) {
      throw new CelistraError('E_USAGE', 'no command given', 'usage: celistra ctl spawn --workspace DIR -- CMD [ARGS...]');
    }
    const backend: BackendChoice = parseBackendChoice(req.backend);
    let workspace = req.workspace;
    if (req.worktree !== undefined) {
      if (workspace !== undefined) throw new CelistraError('E_USAGE', 'give a workspace or a worktree, not both');
      if (!req.repo) throw new CelistraError('E_USAGE', 'a worktree is named within a repository: "repo" (a directory in it) is required');
      workspace = findWorktree(req.worktree, req.repo).path;
    }
    if (!workspace) throw new CelistraError('E_USAGE', '--workspace is required', 'usage: celistra ctl spawn --workspace DIR -- CMD [ARGS...]');
    const network = req.network ?? 'on';
    if (network !== 'on' && network !== 'off') throw new CelistraError('E_USAGE', `network must be on or off, not "${String(network)}"`);
    const unixSockets = req.unixSockets ?? 'deny';
    if (unixSockets !== 'deny' && unixSockets !== 'allow') throw new CelistraError('E_USAGE', `unixSockets must be deny or allow, not "${String(unixSockets)}"`);
    const asked = req.name === undefined ? undefined : validateAgentName(req.name);
    if (asked !== undefined && this.agents.has(asked)) {
      throw new CelistraError('E_CONFLICT', `an agent named ${asked} already exists`, 'pick another --name, or `celistra ctl rm` the old one');
    }
    const spec: AgentSpec = {
      name: asked ?? '',
      argv: req.argv,
      workspace: resolve(workspace),
      backend,
      autoRestart: req.autoRestart === true,
      network,
      unixSockets,
      createdAt: Date.now(),
    };
    const preset = resolvePreset(req.preset, req.argv);
    if (preset !== undefined) spec.preset = preset;
    const env = validateAgentEnv(req.env);
    if (env) spec.env = env;
    for (const key of ['allowWrite', 'denyRead', 'allowRead'] as const) {
      const list = pathList(req[key], key);
      if (list.length) spec[key] = list;
    }
    if (req.worktree !== undefined) spec.worktree = req.worktree;
    if (req.approvals !== undefined) spec.approvals = parseRules(req.approvals);
    const terminalAllow = parseTerminalAllow(req.terminalAllow);
    if (terminalAllow.length) spec.terminalAllow = terminalAllow;
    spec.limits = parseLimits({ maxProcs: req.maxProcs, memory: req.memory, cpu: req.cpu });
    const record: AgentRecord = { spec, state: 'stopped', restarts: 0, crashTimes: [] };
    // Plan first: a policy or backend refusal must not leave a half-made agent behind.
    const prepared = this.prepare(spec, asked ?? 'spawn');
    if (prepared.policy.git) spec.branch = prepared.policy.git.branch;
    // Named by its task unless told otherwise: approvals and the fleet view show the name.
    spec.name = asked ?? taskName(spec.workspace, spec.branch, (n) => this.agents.has(n));
    const name = spec.name;
    this.store.insert(record);
    const live = this.track(record);
    live.cols = clampSize(req.cols, 80);
    live.rows = clampSize(req.rows, 24);
    try {
      await this.startRun(live, prepared);
    } catch (e) {
      this.agents.delete(name);
      this.store.delete(name);
      throw e;
    }
    return this.summary(live);
  }

  private async startRun(live: Live, prepared?: Prepared): Promise<void> {
    if (this.endingAll) {
      if (prepared) removePrivateTmp(prepared.tmpDir);
      throw new CelistraError('E_DAEMON', 'the daemon is stopping with its agents');
    }
    const { spec } = live.record;
    const { plan: fencedPlan, policy, tmpDir, runId } = prepared ?? this.prepare(spec, spec.name);
    let limits: LimitsInForce;
    try {
      // Specs saved before limits existed get the defaults.
      limits = putLimitsInForce(spec.limits ?? parseLimits(), runId);
    } catch (e) {
      removePrivateTmp(tmpDir);
      this.opts.approvals?.discardRun(runId);
      throw e;
    }
    const plan = wrapPlanWithLimits(fencedPlan, limits);
    const starting = {};
    live.starting = starting;
    // A task worktree is leased for the run (worktree/lease.ts): by the daemon until the
    // holder exists, then by the holder, which lives exactly as long as the run.
    const checkout = recordedCheckout(policy.git);
    const lease = checkout ? takeCheckout(checkout, process.pid, this.paths) : undefined;
    let started;
    try {
      started = await launchHolder(this.paths, { agent: spec.name, runId, plan, cols: live.cols, rows: live.rows, scrollbackBytes: this.opts.scrollbackBytes });
    } catch (e) {
      if (lease) rmSync(lease, { force: true });
      removePrivateTmp(tmpDir);
      endLimits(limits);
      this.opts.approvals?.discardRun(runId);
      throw e;
    }
    if (lease) moveLease(lease, started.holderPid);
    this.approvalsStarted(live.record, runId);
    let link: HolderLink;
    try {
      link = await HolderLink.open(holderFiles(this.paths, runId).socketPath);
    } catch (e) {
      // A holder we started but cannot talk to would run its agent unsupervised.
      await stopHolder(started.holderPid, runId);
      removePrivateTmp(tmpDir);
      endLimits(limits);
      throw new CelistraError('E_SPAWN', `the holder for ${spec.name} did not answer (${(e as Error).message}); it was stopped`);
    }
    if (live.starting !== starting || this.agents.get(spec.name) !== live) {
      // Killed or removed while its holder started: nothing may run on unsupervised.
      link.detach();
      await stopHolder(started.holderPid, runId);
      removePrivateTmp(tmpDir);
      endLimits(limits);
      this.opts.approvals?.runEnded(runId);
      return;
    }
    live.starting = undefined;
    const record = live.record;
    record.state = 'running';
    record.runId = runId;
    record.pid = started.pid;
    record.holderPid = started.holderPid;
    // The holder's clock, as for the exit's `at`: a command that ends at once has ended
    // before we got here, and Date.now() would make its duration negative.
    record.startedAt = link.hello.startedAt;
    record.backend = plan.backend;
    record.tmpDir = tmpDir;
    record.limits = limits;
    live.lastRunPids = [started.pid, started.holderPid];
    delete record.restartAt;
    live.stopRequested = false;
    live.restartRequested = false;
    live.collecting = false;
    this.save(live);
    this.bindLink(live, link);
    this.audit('spawn', spec.name, {
      command: spec.argv,
      workspace: policy.workspace,
      branch: spec.branch,
      backend: plan.backend,
      ...(plan.degraded ? { degraded: Object.keys(plan.degraded) } : {}),
      policy: summarizePolicy(policy),
      env: Object.keys(plan.env),
      ...(spec.env ? { envGiven: Object.keys(spec.env) } : {}),
      ...(spec.preset ? { preset: spec.preset } : {}),
      pid: started.pid,
      limits: { maxProcs: limits.maxProcs, memoryBytes: limits.memoryBytes ?? null, cpu: limits.cpu ?? null, by: limits.by },
    });
    if (plan.backend === 'none') this.audit('unsandboxed', spec.name, { command: spec.argv });
    // A command that ends at once may be gone before we connected: the hello says so.
    if (link.hello.exit) this.onExit(live, link.hello.exit, 'exited');
  }

  /**
   * An agent run ended: keep its scrollback, free its holder, and apply the restart policy.
   * The holder sends the scrollback with the exit; only an exit learnt otherwise (while
   * the daemon was down, from an older holder) asks for it, a round trip first.
   */
  private onExit(live: Live, exit: AgentExit, why: string, scrollback?: Buffer): void {
    if (live.collecting) return;
    live.collecting = true;
    clearTimeout(live.graceTimer);
    const link = live.link;
    const finish = (output: Buffer | undefined) => {
      if (output) this.writes.saveOutput(live.record.spec.name, output);
      link?.release();
      live.link = undefined;
      this.afterExit(live, exit, why);
    };
    if (scrollback) finish(scrollback);
    else if (link && !link.closed) link.logsNow(undefined, finish);
    else finish(undefined);
  }

  /**
   * The run's end, in the order a watcher sees it: the new state is decided, audited,
   * saved and announced first; the cleanup that may take long (the private tmp an agent
   * filled, the cgroup of a process that will not die, the worktree's lease) comes after,
   * then the restart, which needs the lease back.
   */
  private afterExit(live: Live, exit: AgentExit, why: string): void {
    const record = live.record;
    const name = record.spec.name;
    if (!this.agents.has(name)) return;
    // What the cgroup counted says whether a limit was why it ended.
    const events = limitEvents(record.limits);
    if (events.oomKills > 0) exit = { ...exit, oomKills: events.oomKills };
    if (events.forksRefused > 0) exit = { ...exit, forksRefused: events.forksRefused };
    const ended = { tmpDir: record.tmpDir, runId: record.runId, holderPid: record.holderPid, limits: record.limits };
    if (record.limits?.cgroup) record.limits = { ...record.limits, cgroup: undefined };
    delete record.tmpDir;
    delete record.pid;
    delete record.holderPid;
    record.lastExit = exit;
    const durationMs = record.startedAt ? exit.at - record.startedAt : 0;
    this.audit('exit', name, {
      code: exit.code,
      signal: exit.signal,
      durationMs,
      why: events.oomKills > 0 ? `${why}; out of memory: the kernel killed ${events.oomKills} of its processes at its memory limit` : why,
      ...(events.oomKills > 0 ? { oomKills: events.oomKills } : {}),
      ...(events.forksRefused > 0 ? { forksRefused: events.forksRefused } : {}),
    });
    live.fanout.closeAll(1000, `agent exited with status ${exit.status}`);

    const restartNow = live.restartRequested;
    let restartIn: number | undefined;
    if (restartNow) {
      record.restarts++;
      this.audit('restart', name, { reason: 'user', attempt: record.restarts });
    } else {
      const crashed = !live.stopRequested && exit.status !== 0;
      if (live.stopRequested) record.state = 'stopped';
      else if (!crashed || !record.spec.autoRestart) record.state = 'exited';
      else {
        const now = Date.now();
        record.crashTimes = crashesInWindow([...record.crashTimes, now], now, this.restartPolicy);
        const decision = decideRestart(record.crashTimes, now, this.restartPolicy);
        if (decision.action === 'crashed-out') {
          record.state = 'crashed-out';
          this.audit('crashed-out', name, { crashes: decision.crashesInWindow, windowMs: this.restartPolicy.windowMs });
        } else {
          record.state = 'restarting';
          record.restartAt = now + decision.delayMs;
          restartIn = decision.delayMs;
        }
      }
      live.stopRequested = false;
      if (!this.stopping) this.save(live);
    }

    // The slow part: nothing a watcher waits for.
    if (ended.tmpDir) removePrivateTmp(ended.tmpDir);
    if (ended.runId) this.opts.approvals?.runEnded(ended.runId);
    if (ended.holderPid) this.releaseCheckout(record.spec.workspace, ended.holderPid);
    const files = ended.runId ? holderFiles(this.paths, ended.runId) : undefined;
    if (files) {
      rmSync(files.exitPath, { force: true });
      // The holder's own log matters only when it has something to say.
      if (existsSync(files.logPath) && statSync(files.logPath).size === 0) rmSync(files.logPath, { force: true });
    }
    // Whatever the agent left behind in its cgroup ends with the run.
    endLimits(ended.limits);

    if (restartNow) this.startAgain(live);
    else if (restartIn !== undefined) this.scheduleRestart(live, restartIn);
  }

  /** Persist an agent's record and tell whoever watches the fleet that it changed. */
  private save(live: Live): void {
    this.writes.update(live.record);
    this.changed(live.record.spec.name);
  }

  private changed(name: string): void {
    for (const listener of this.changeListeners) {
      try {
        listener(name);
      } catch {
        // A broken watcher must not stop the supervisor.
      }
    }
  }

  /**
   * Called with an agent's name whenever what `describe` says of it may have changed (its
   * state, restarts, last line), and when it is removed (then `has` is false). Synchronous,
   * at the moment of the change. Returns the removal.
   */
  onChange(listener: (name: string) => void): () => void {
    this.changeListeners.add(listener);
    return () => this.changeListeners.delete(listener);
  }

  /** The run is over: its lease goes, and a plain worktree's HEAD lets the main checkout fetch the branch again. */
  private releaseCheckout(workspace: string, holderPid: number): void {
    try {
      const found = recordedWorktree(workspace, undefined, false);
      if (found) releaseCheckout({ record: found.record, layout: layoutOf(found.record) }, holderPid, this.paths);
    } catch {
      // The worktree is gone or odd: there is no checkout left to release.
    }
  }

  private scheduleRestart(live: Live, delayMs: number): void {
    clearTimeout(live.restartTimer);
    live.restartTimer = setTimeout(() => {
      live.restartTimer = undefined;
      if (live.record.state !== 'restarting' || this.stopping || this.endingAll) return;
      live.record.restarts++;
      this.audit('restart', live.record.spec.name, { reason: 'crash', attempt: live.record.restarts, delayMs });
      this.startAgain(live);
    }, delayMs);
  }

  /** Start a new run; a failure (workspace gone, backend refused) leaves it exited with the reason. */
  private startAgain(live: Live): void {
    this.startRun(live).catch((e: Error) => {
      const record = live.record;
      record.state = 'exited';
      record.lastExit = { code: null, signal: null, status: 127, at: Date.now() };
      delete record.restartAt;
      this.save(live);
      this.audit('exit', record.spec.name, { code: null, signal: null, durationMs: 0, why: `could not start: ${e.message}` });
    });
  }

  private get(name: string): Live {
    const live = this.agents.get(name);
    if (!live) throw new CelistraError('E_NOT_FOUND', `no agent named ${JSON.stringify(name)}`, '`celistra ctl ls` lists the agents');
    return live;
  }

  kill(name: string, signal: string = 'TERM', by = 'api'): AgentSummary {
    const live = this.get(name);
    const sig = parseKillSignal(signal);
    const record = live.record;
    if (record.state === 'restarting') {
      clearTimeout(live.restartTimer);
      live.starting = undefined;
      record.state = 'stopped';
      delete record.restartAt;
      this.save(live);
    } else if (record.state === 'running' && live.link && !live.collecting) {
      live.stopRequested = true;
      live.link.signal(`SIG${sig}`);
    } else if (record.state === 'running') {
      // Between two runs (a restart): the old run's exit is being collected, or the next
      // run's holder is starting. Stopping means no next run: a start under way is taken
      // away (startRun then stops its holder), an exit being collected ends as stopped.
      live.stopRequested = true;
      live.restartRequested = false;
      clearTimeout(live.graceTimer);
      if (live.starting) {
        live.starting = undefined;
        record.state = 'stopped';
        this.save(live);
      }
    } else {
      throw new CelistraError('E_CONFLICT', `agent ${name} is not running (${record.state})`);
    }
    this.audit('kill', name, { signal: `SIG${sig}`, by });
    return this.summary(live);
  }

  /** Start it again now: resets the crash count, and clears crashed-out. */
  async restart(name: string): Promise<AgentSummary> {
    const live = this.get(name);
    const record = live.record;
    record.crashTimes = [];
    if (record.state === 'running' && live.link) {
      live.restartRequested = true;
      live.link.signal('SIGTERM');
      const link = live.link;
      live.graceTimer = setTimeout(() => link.signal('SIGKILL'), RESTART_GRACE_MS);
      return this.summary(live);
    }
    clearTimeout(live.restartTimer);
    record.restarts++;
    this.audit('restart', name, { reason: 'user', attempt: record.restarts });
    await this.startRun(live);
    return this.summary(live);
  }

  remove(name: string): void {
    const live = this.get(name);
    if (live.record.state === 'running') {
      throw new CelistraError('E_CONFLICT', `agent ${name} is running`, `stop it first: celistra ctl kill ${name}`);
    }
    clearTimeout(live.restartTimer);
    live.starting = undefined;
    live.fanout.closeAll(1000, 'agent removed');
    this.agents.delete(name);
    this.writes.delete(name);
    this.opts.approvals?.forgetAgent(name);
    this.changed(name);
  }

  input(name: string, data: Buffer): void {
    const live = this.get(name);
    if (live.record.state !== 'running' || !live.link) throw new CelistraError('E_CONFLICT', `agent ${name} is not running (${live.record.state})`);
    live.link.input(data);
  }

  async logs(name: string, bytes?: number): Promise<Buffer> {
    const live = this.get(name);
    if (live.link && !live.link.closed) {
      try {
        return await live.link.logs(bytes);
      } catch {
        // The run ended while asking; its saved output answers below.
      }
    }
    const saved = this.writes.output(name) ?? Buffer.alloc(0);
    return bytes === undefined || bytes >= saved.length ? saved : saved.subarray(saved.length - bytes);
  }

  /**
   * Attach a client. `replay: 'screen'` sends the current screen first (for terminals),
   * `'logs'` the last `bytes` of scrollback (for `logs --follow`); then live output.
   */
  attach(name: string, client: FanoutClient, replay: 'screen' | 'logs', bytes?: number): { detach: () => void; flow: (want: 'hold' | 'resync' | 'screens') => void } {
    const live = this.get(name);
    const link = live.link;
    if (live.record.state !== 'running' || !link) throw new CelistraError('E_CONFLICT', `agent ${name} is not running (${live.record.state})`, `see its output with: celistra ctl logs ${name}`);
    // A log reader that fell behind continues from the present: replaying the scrollback
    // again would repeat what it already printed.
    const provider: StartProvider =
      replay === 'screen'
        ? (_reason, done) => link.snapshotNow((s) => done(s && { kind: 'screen', screen: s.screen, cols: s.cols, rows: s.rows, bytes: s.tail }))
        : (reason, done) =>
            reason === 'resync'
              ? done({ kind: 'logs', screen: '', cols: live.cols, rows: live.rows, bytes: Buffer.alloc(0) })
              : link.logsNow(bytes, (b) => done(b && { kind: 'logs', screen: '', cols: live.cols, rows: live.rows, bytes: b }));
    live.fanout.add(client, provider);
    const fanout = live.fanout;
    return { detach: () => fanout.remove(client), flow: (want) => fanout[want](client) };
  }

  /** The most recently active client's size wins (tmux's `window-size latest`). */
  resize(name: string, cols: number, rows: number): void {
    const live = this.agents.get(name);
    if (!live) return;
    const c = clampSize(cols, live.cols);
    const r = clampSize(rows, live.rows);
    if (c === live.cols && r === live.rows) return;
    live.cols = c;
    live.rows = r;
    live.link?.resize(c, r);
  }

  audit(type: string, agent: string | undefined, data: Record<string, unknown>): void {
    try {
      this.opts.audit?.record({ type, ...(agent ? { agent } : {}), data });
    } catch {
      // Auditing must never take the supervisor down; the audit module reports its own losses.
    }
  }

  /**
   * Agents with their exec helper and holder pids: the roots their sandboxes hang from.
   * Runs that ended in the last minute are included, since the kernel reports a
   * denial after the fact and a short command may be gone by then.
   */
  agentProcesses(): AgentProcesses[] {
    const out: AgentProcesses[] = [];
    const now = Date.now();
    for (const [agent, live] of this.agents) {
      const { state, pid, holderPid, lastExit } = live.record;
      if (state === 'running') {
        const pids = [pid, holderPid].filter((p): p is number => typeof p === 'number');
        if (pids.length > 0) out.push({ agent, pids });
      } else if (live.lastRunPids && lastExit && now - lastExit.at < ENDED_RUN_PIDS_MS) {
        out.push({ agent, pids: live.lastRunPids });
      }
    }
    return out;
  }

  /** Tell the approval queue a run is up (again): it watches the run's spool. */
  private approvalsStarted(record: AgentRecord, runId: string): void {
    const { spec } = record;
    const task = spec.worktree ?? spec.branch?.replace(/^agent\//, '') ?? basename(spec.workspace);
    this.opts.approvals?.runStarted({ agent: spec.name, runId, task, branch: spec.branch ?? null, rules: spec.approvals ?? parseRules(undefined) });
  }

  has(name: string): boolean {
    return this.agents.has(name);
  }

  summary(live: Live): AgentSummary {
    const r = live.record;
    const running = r.state === 'running';
    return {
      name: r.spec.name,
      state: r.state,
      pid: running ? (r.pid ?? null) : null,
      holderPid: running ? (r.holderPid ?? null) : null,
      startedAt: r.startedAt ?? null,
      uptimeMs: running && r.startedAt ? Date.now() - r.startedAt : null,
      restarts: r.restarts,
      workspace: r.spec.workspace,
      worktree: r.spec.worktree ?? null,
      branch: r.spec.branch ?? null,
      backend: r.backend ?? null,
      unsandboxed: r.backend === 'none',
      autoRestart: r.spec.autoRestart,
      argv: r.spec.argv,
      preset: r.spec.preset ?? null,
      envKeys: Object.keys(r.spec.env ?? {}),
      lastExit: r.lastExit ?? null,
      lastLine: live.screenLastLine ?? live.recent.lastLine(),
      restartAt: r.restartAt ?? null,
      approvals: running ? (this.opts.approvals?.waiting(r.spec.name) ?? null) : null,
      terminalAllow: r.spec.terminalAllow ?? [],
      limits: limitsSummary(r),
    };
  }

  list(): AgentSummary[] {
    return [...this.agents.values()].map((l) => this.summary(l)).sort((a, b) => a.name.localeCompare(b.name));
  }

  describe(name: string): AgentSummary {
    return this.summary(this.get(name));
  }

  /**
   * End every agent (`daemon stop --agents`): SIGTERM, SIGKILL for those still running
   * after `graceMs`, and the holder itself for one that ignores even that. Resolves once
   * every exit is collected (and audited as it happened).
   */
  async stopAll(graceMs = RESTART_GRACE_MS): Promise<void> {
    const running = () => [...this.agents.values()].filter((l) => l.record.state === 'running');
    this.endingAll = true;
    for (const live of this.agents.values()) {
      live.restartRequested = false;
      const { state } = live.record;
      if (state !== 'running' && state !== 'restarting') continue;
      try {
        this.kill(live.record.spec.name, 'TERM', 'daemon stop --agents');
      } catch {
        // Between runs without a holder link: the SIGKILL round below ends it.
      }
    }
    const settle = async (ms: number) => {
      const deadline = Date.now() + ms;
      while (running().length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
    };
    await settle(graceMs);
    for (const live of running()) {
      live.stopRequested = true;
      live.link?.signal('SIGKILL');
    }
    await settle(2000);
    for (const live of running()) {
      if (live.record.runId) await stopHolder(live.record.holderPid, live.record.runId, 0);
    }
    await settle(2000);
  }

  /** Stop supervising: agents keep running in their holders for the next daemon. */
  shutdown(): void {
    this.stopping = true;
    this.writes.stop();
    for (const live of this.agents.values()) {
      clearTimeout(live.restartTimer);
      clearTimeout(live.graceTimer);
      live.fanout.closeAll(1001, 'daemon stopping');
      live.link?.detach();
    }
  }
}

interface Prepared {
  plan: LaunchPlan;
  policy: Policy;
  tmpDir: string;
  runId: string;
}

function limitsSummary(r: AgentRecord): AgentSummary['limits'] {
  const asked = r.spec.limits ?? parseLimits();
  return { maxProcs: asked.maxProcs, memoryBytes: asked.memoryBytes ?? null, cpu: asked.cpu ?? null, by: r.limits?.by ?? null };
}

function clampSize(n: unknown, fallback: number): number {
  return typeof n === 'number' && Number.isInteger(n) && n > 0 && n <= 1000 ? n : fallback;
}

export function parseKillSignal(s: string): KillSignal {
  const v = s.toUpperCase().replace(/^SIG/, '');
  if ((KILL_SIGNALS as readonly string[]).includes(v)) return v as KillSignal;
  throw new CelistraError('E_USAGE', `unknown signal "${s}"`, `choose one of: ${KILL_SIGNALS.join(', ')}`);
}

function readExitFile(path: string): AgentExit | undefined {
  if (!existsSync(path)) return undefined;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as AgentExit;
  } catch {
    return undefined;
  }
}

/**
 * A request's path list, checked: the daemon resolves nothing against its own working
 * directory, so each path must be absolute or `~/` (the client resolves relative ones).
 */
function pathList(value: unknown, key: string): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || !value.every((p) => typeof p === 'string' && (p.startsWith('/') || p === '~' || p.startsWith('~/')))) {
    throw new CelistraError('E_USAGE', `${key} must be a list of absolute or ~/ paths`);
  }
  return value as string[];
}
