import type { Policy } from '../policy/policy.js';

/** The properties a fence can hold; each backend says, per machine, which it enforces. */
export const GUARANTEE_NAMES = [
  'content-writes', // create/modify/delete/rename outside writable roots
  'metadata-writes', // chmod, chown, utime, xattrs outside writable roots
  'read-deny', // reading denied paths (secrets, Celistra state)
  'signals', // signalling processes outside the sandbox
  'ptrace', // ptrace / process_vm_writev / /proc/<pid>/mem of outside processes
  'abstract-unix', // connecting to abstract unix sockets outside
  'pathname-unix', // connecting to pathname unix sockets outside (e.g. the daemon socket)
  'network', // network off when the policy says off
  'tiocsti', // injecting keystrokes into the user's terminal
  'private-tmp', // /tmp not shared with other agents
  'kernel-keyrings', // reading, changing or adding keys in the caller's session or user keyring
  'host-knobs', // writing /proc/sys, /proc/sysrq-trigger, /sys and other host-global settings, also as uid 0
  'sandbox-init', // tracing, stopping or writing the memory of the sandbox's own init, which the run waits on
  'inherited-stdio', // changing the mode, owner, times, xattrs or earlier contents of files stdio was redirected from or to, or the user's terminal (its termios too)
] as const;
export type GuaranteeName = (typeof GUARANTEE_NAMES)[number];

/** `deny`: enforced. `gap`: not enforced here, with the reason (shown, never skipped). */
export type Guarantee = { status: 'enforced' } | { status: 'gap'; reason: string };
export type Guarantees = Record<GuaranteeName, Guarantee>;

/** What `probe()` found on this machine. */
export interface Capabilities {
  backend: BackendName;
  /** True when this backend can run at all here. */
  available: boolean;
  /** Why it cannot run, and how to fix it (when unavailable). */
  unavailableReason?: string;
  fix?: string;
  /** Free-form facts for `doctor` (ABI version, bwrap version, ...). */
  details: Record<string, string | number | boolean>;
  guarantees: Guarantees;
}

/** Everything needed to start the fenced command: spawn `file` with `args` and `env`. */
export interface LaunchPlan {
  backend: BackendName;
  file: string;
  args: string[];
  /** Complete environment for the child (not a delta). */
  env: Record<string, string>;
  cwd: string;
  /** Human-readable notes ("network off via a new net namespace", ...). */
  notes: string[];
  /**
   * Guarantees the probe declares enforced on this machine that this plan does not hold,
   * because of this policy's shape (e.g. a workspace under /tmp), each with why and the
   * fix. Absent when the plan holds everything the probe declares.
   */
  degraded?: Partial<Record<GuaranteeName, string>>;
}

export type BackendName = 'landlock' | 'bwrap' | 'seatbelt' | 'none';

export interface Backend {
  name: BackendName;
  /** Cheap, cached per process; never throws. */
  probe(): Capabilities;
  /** More details for `celistra doctor` only, ones that cost more than a probe may (a spawn). */
  diagnose?(caps: Capabilities): Capabilities['details'];
  /**
   * Turn a policy into a launch plan, or throw CelistraError('E_NO_BACKEND', ...) when
   * this machine cannot enforce it. Never spawns anything.
   */
  plan(policy: Policy, argv: string[], baseEnv: Record<string, string>): LaunchPlan;
}

export function allEnforced(): Guarantees {
  return Object.fromEntries(GUARANTEE_NAMES.map((g) => [g, { status: 'enforced' }])) as Guarantees;
}

export function allGaps(reason: string): Guarantees {
  return Object.fromEntries(GUARANTEE_NAMES.map((g) => [g, { status: 'gap', reason }])) as Guarantees;
}
