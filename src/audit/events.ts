import type { BackendName } from '../backends/backend.js';
import type { Policy } from '../policy/policy.js';

/**
 * What the audit log records. The type names are stored as-is in the database and
 * shown by `celistra history --event TYPE`, so they are part of the on-disk contract:
 * add new ones, never rename.
 */
export const AUDIT_EVENT_TYPES = [
  'spawn', // an agent's command started
  'exit', // it ended (code or signal, duration)
  'restart', // the supervisor started it again after an exit
  'crashed-out', // too many crashes: the supervisor gave up
  'kill', // someone signalled it (signal, by whom)
  'attach', // a client attached to its terminal
  'detach', // a client detached
  'unsandboxed', // it was started with `--backend none`
  'daemon-start',
  'daemon-stop',
  'prune', // retention removed old rows; this row is the anchor that keeps the chain verifiable
  'denial', // the sandbox refused something (where the backend can report it)
  'recovery', // the database could not be opened and was moved aside; this log starts fresh
  'loss', // events were dropped (database locked or disk full for too long)
  'approval', // an approval request was made, decided, expired, went stale or was dropped (data.action; docs/approvals.md)
  'worktree-adopt', // a plain `git worktree add` worktree got its own git state on its first fenced run
  'pull', // a task's commits were brought into the main checkout (or the pull was refused): by cli, dashboard or api
  'git-guard', // host-side: a task's gitlinks were marked skip-worktree, or git state that would run a program was moved to its quarantine (docs/git-in-the-fence.md)
] as const;
export type AuditEventType = (typeof AUDIT_EVENT_TYPES)[number];

export function isAuditEventType(s: string): s is AuditEventType {
  return (AUDIT_EVENT_TYPES as readonly string[]).includes(s);
}

/** What a caller hands to `record()`. `agent` is absent for daemon-wide events. */
export interface AuditEventInput {
  type: AuditEventType;
  agent?: string;
  data?: Record<string, unknown>;
}

/** One stored event, as `query()` returns it. */
export interface AuditRow {
  /** Position in the hash chain: strictly increasing, never reused. */
  id: number;
  /** When `record()` was called, ms since the epoch. */
  ts: number;
  type: AuditEventType;
  agent: string | null;
  data: Record<string, unknown>;
  prevHash: string;
  hash: string;
}

/**
 * The expected `data` of the common events. Recording is deliberately loose (any
 * JSON-able object is stored) so that a new field never costs an event; these shapes
 * say what readers such as `history` and the dashboard look for.
 */
export interface SpawnData {
  command: string[];
  workspace: string;
  branch?: string;
  backend: BackendName;
  policy: PolicySummary;
  /** Names of the environment variables passed to the agent; never their values (see redactEnv). */
  env: string[];
  pid?: number;
}
export interface ExitData {
  code: number | null;
  signal: string | null;
  durationMs: number;
}
export interface RestartData {
  reason: string;
  attempt: number;
  delayMs?: number;
}
export interface KillData {
  signal: string;
  by: string;
}
export interface ClientData {
  client: string;
}
export interface DenialData {
  backend: BackendName;
  operation: string;
  path?: string;
}
export interface PruneData {
  /** First and last id removed; the chain resumes at `toId + 1`. */
  fromId: number;
  toId: number;
  count: number;
  /** The hash of row `toId`: the `prev_hash` the first remaining row must carry. */
  lastPrunedHash: string;
  /** Rows older than this (ms since the epoch) were eligible. */
  cutoff: number;
}
export interface RecoveryData {
  /** Where the unreadable database was moved (nothing is deleted). */
  movedTo: string;
  reason: string;
}
export interface LossData {
  dropped: number;
  reason: string;
  firstDroppedTs: number;
  lastDroppedTs: number;
}

/** The part of a Policy worth keeping per spawn: enough to answer "under which fence?". */
export interface PolicySummary {
  workspace: string;
  writableRoots: string[];
  readOnlyPaths: string[];
  denyRead: string[];
  network: Policy['network'];
  /** Absent in rows written before unix sockets were refused by default. */
  unixSockets?: Policy['unixSockets'];
  preset?: string;
  git: boolean;
}

export function summarizePolicy(policy: Policy): PolicySummary {
  const summary: PolicySummary = {
    workspace: policy.workspace,
    writableRoots: policy.writableRoots,
    readOnlyPaths: policy.readOnlyPaths,
    denyRead: policy.denyRead,
    network: policy.network,
    unixSockets: policy.unixSockets ?? 'deny',
    git: policy.git !== undefined,
  };
  if (policy.preset !== undefined) summary.preset = policy.preset;
  return summary;
}
