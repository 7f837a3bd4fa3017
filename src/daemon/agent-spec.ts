import type { BackendChoice } from '../run/backend-selection.js';
import type { BackendName } from '../backends/backend.js';
import { CelistraError } from '../policy/errors.js';
import type { NetworkMode, UnixSocketMode } from '../policy/policy.js';
import type { ApprovalRules } from '../approvals/rules.js';
import type { ResourceLimits } from '../policy/limits.js';
import type { TerminalAllowance } from '../terminal/output-filter.js';
import type { DiffStat } from './diff-stat.js';
import type { LimitMechanism, LimitsInForce } from '../run/limits.js';

/** What the user asked for when spawning an agent; persisted, reused for every restart. */
export interface AgentSpec {
  name: string;
  argv: string[];
  /** Absolute path of the directory the agent may write. */
  workspace: string;
  backend: BackendChoice;
  /** The preset it runs with: given, or the known agent's own (policy/presets/default.ts); absent for none. */
  preset?: string;
  /** Variables for this agent only, over the daemon's environment (values never shown or audited). */
  env?: Record<string, string>;
  /** Restart after a crash (non-zero exit or signal) with backoff. */
  autoRestart: boolean;
  /** The worktree name it runs in, when spawned with --worktree. */
  worktree?: string;
  /** The worktree's branch, shown by `ctl ls`. */
  branch?: string;
  network: NetworkMode;
  /** Absent in specs persisted before it existed: the policy then refuses unix sockets. */
  unixSockets?: UnixSocketMode;
  /** As `celistra run`'s flags of the same names (absolute or `~/` paths); absent when none. */
  allowWrite?: string[];
  denyRead?: string[];
  allowRead?: string[];
  /** Which approval requests need a person (`--approve`, `--auto-allow`, `--auto-deny`); absent: all do. */
  approvals?: ApprovalRules;
  /** What its terminal may pass to a person's besides drawing (`--allow-terminal`); absent: none. */
  terminalAllow?: TerminalAllowance[];
  /** Resource limits (`--max-procs`, `--memory`, `--cpu`); absent in specs saved before them: the defaults apply. */
  limits?: ResourceLimits;
  createdAt: number;
}

/**
 * running: its process is alive. exited: it ended by itself (status in lastExit).
 * restarting: crashed, waiting out the backoff. crashed-out: too many crashes, waits
 * for `ctl restart`. stopped: the user killed it.
 */
export type AgentState = 'running' | 'exited' | 'restarting' | 'crashed-out' | 'stopped';

export interface AgentExit {
  code: number | null;
  signal: string | null;
  status: number;
  at: number;
  /** Processes of the run the kernel killed at its memory limit (absent: none). */
  oomKills?: number;
  /** Forks refused at its process limit (absent: none, or not counted: rlimit). */
  forksRefused?: number;
}

/** An agent as the daemon tracks it: the spec plus the state of its current run. */
export interface AgentRecord {
  spec: AgentSpec;
  state: AgentState;
  /** The current (or last) run; names its holder's socket. */
  runId?: string;
  pid?: number;
  holderPid?: number;
  startedAt?: number;
  /** The backend the current run is fenced by (`none` = unsandboxed). */
  backend?: BackendName;
  tmpDir?: string;
  restarts: number;
  /** Times of recent crashes, for the crash-loop guard. */
  crashTimes: number[];
  lastExit?: AgentExit;
  /** When a `restarting` agent is due to start again. */
  restartAt?: number;
  /** The limits of the current (or last) run and what holds them; its cgroup while it runs. */
  limits?: LimitsInForce;
}

/** The API's view of an agent (GET /v1/agents). */
export interface AgentSummary {
  name: string;
  state: AgentState;
  pid: number | null;
  /** The holder process that owns its PTY (survives daemon restarts). */
  holderPid: number | null;
  startedAt: number | null;
  uptimeMs: number | null;
  restarts: number;
  workspace: string;
  worktree: string | null;
  branch: string | null;
  backend: BackendName | null;
  unsandboxed: boolean;
  autoRestart: boolean;
  argv: string[];
  /** The preset it runs with, or null. */
  preset: string | null;
  /** Names of the variables given with `--env` / `--env-file` (values are not shown). */
  envKeys: string[];
  lastExit: AgentExit | null;
  lastLine: string;
  restartAt: number | null;
  /** While running: its pending approval requests (shown as `waiting-approval` by `ctl ls`), or null. */
  approvals: { count: number; oldestAt: number } | null;
  /** Titles, clipboard writes, notifications its terminal may pass (sanitized) to an attached one. */
  terminalAllow: TerminalAllowance[];
  /** The limits it runs with, and what holds each in its current or last run (null: not started since they existed). */
  limits: { maxProcs: number | 'unlimited'; memoryBytes: number | null; cpu: number | null; by: { procs: LimitMechanism; memory?: LimitMechanism; cpu?: LimitMechanism } | null };
  /** The task's diff stat against its base (null: not in a task worktree). Set by the daemon's API, not the supervisor. */
  diffStat?: DiffStat | null;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

export function validateAgentName(name: unknown): string {
  if (typeof name !== 'string' || !NAME.test(name)) {
    throw new CelistraError('E_USAGE', `invalid agent name ${JSON.stringify(name)}`, 'use 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit');
  }
  return name;
}
