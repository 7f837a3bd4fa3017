import type { GuaranteeName } from '../src/backends/backend.js';
import type { Stage } from './stage.js';

/**
 * What a case is judged against. A guarantee name: the backend's declaration for it
 * decides whether the attempts must be denied (enforced) or are a known gap.
 * `allow`: allowed work that must succeed under every backend (a false denial fails).
 * `supervisor`: a property Celistra itself provides whatever the backend (its own PTY,
 * the file descriptors it hands over, refusing to run when a backend is degraded).
 */
export type Expectation = GuaranteeName | 'allow' | 'supervisor';

/** How an attempt is made inside the fence: the three ways agents touch files. */
export type Via = 'sh' | 'node' | 'python3';

export const SECTIONS = {
  A: 'The fence itself',
  B: 'Path tricks',
  C: 'Git',
  D: 'Persistence outside the fence',
  E: 'Processes and IPC',
  F: 'Integrity',
  G: 'Allowed work',
  H: 'Shared kernel state, the supervisor and approvals',
} as const;
export type Section = keyof typeof SECTIONS;

/** What the fenced attempt printed and how it ended, as seen by the host. */
export interface AttemptOutput {
  /** Exit status of the attempt's process; 0 means the attempt claims it got through. */
  status: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  /** Set when the fenced driver was gone and the attempt never ran: never judged as held. */
  lost?: string;
}

/**
 * One escape (or allowed-work) attempt. The script exits 0 when the operation it tries
 * reported success; the host then judges from its own observations, never from the
 * status alone.
 */
export interface Attempt {
  /** Short label, unique within the case ("sh: append ~/.bashrc"). */
  name: string;
  via: Via;
  script: string;
  /** Overrides the case's expectation for this attempt (a case may mix reads and writes). */
  expect?: Expectation;
  /**
   * Set when running this attempt unfenced would change the real machine (a crontab,
   * the global npm prefix): it is only run where its guarantee is enforced.
   */
  hazard?: string;
  /** Secrets that must not appear in the attempt's output (reads of denied files). */
  secrets?: string[];
  /** Allowed work: check its effect on the host; return why it is missing, or undefined. */
  verify?: (output: AttemptOutput) => string | undefined;
  /** Host-side action between the attempt and the after-snapshot (e.g. a host `git status`). */
  afterHost?: () => void;
  /**
   * Host-side inspection of the fenced driver process (its open fds, its NoNewPrivs
   * flag); returns evidence lines of a breach, empty when it held.
   */
  inspectDriver?: (driverPid: number | undefined) => string[];
  /** Wait this long after the attempt before looking (signals, late writers). */
  settleMs?: number;
  timeoutMs?: number;
}

/** How the fenced process is launched; attempts with equal launches share one sandbox. */
export interface Launch {
  net?: 'on' | 'off';
  preset?: string;
  /**
   * Paths the launched command names on its command line, as a real agent's command
   * names its binary: a private /tmp keeps the top-level /tmp/<x> holding each (a
   * checkout under /tmp), which a path inside an attempt's script could never earn.
   */
  names?: string[];
}

/**
 * Observations a case makes itself, for checks that are not one attempt inside a
 * driver. `held`: the fence did what it promised (denied the escape, or let the
 * allowed work through); `escaped`: the protected property broke; `denied`: allowed
 * work failed.
 */
export interface CustomResult {
  name: string;
  /** Overrides the case's expectation for this result. */
  expect?: Expectation;
  outcome: 'held' | 'escaped' | 'denied' | 'n/a';
  detail: string;
}

export interface CaseContext {
  stage: Stage;
  backend: string;
  /** Path of `bin/celistra.js`, for cases that drive the CLI themselves. */
  cli: string;
}

export interface Case {
  /** Case number from docs (conformance-cases.md) plus a suffix for groups: "02", "15b". */
  id: string;
  title: string;
  section: Section;
  expect: Expectation;
  launch?: Launch;
  attempts?: (stage: Stage) => Attempt[];
  /** For cases that cannot be an attempt inside a driver (terminal injection, refusal). */
  custom?: (ctx: CaseContext) => Promise<CustomResult[]>;
}
