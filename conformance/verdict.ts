import type { Capabilities } from '../src/backends/backend.js';
import type { Expectation } from './case.js';

/** What the host observed for one attempt, before comparing with the expectation. */
export type Observed =
  /** Nothing outside the fence changed, nothing leaked, nobody was reached. */
  | 'held'
  /** Something outside changed, leaked, or was signalled/traced/connected to. */
  | 'escaped'
  /** Allowed work whose effect is visible on the host. */
  | 'worked'
  /** Allowed work that failed or left no effect. */
  | 'denied'
  /** Not run (would change the real machine where the fence does not hold). */
  | 'skipped'
  /** Not applicable on this machine or backend. */
  | 'n/a'
  /** The suite itself could not run the attempt. */
  | 'error';

/** What a backend promises for an attempt: deny it, allow it, or a declared gap. */
export type Promised = { mode: 'deny' } | { mode: 'allow' } | { mode: 'gap'; reason: string };

export function promiseFor(expect: Expectation, caps: Capabilities): Promised {
  if (expect === 'allow') return { mode: 'allow' };
  if (expect === 'supervisor') return { mode: 'deny' };
  const g = caps.guarantees[expect];
  return g.status === 'enforced' ? { mode: 'deny' } : { mode: 'gap', reason: g.reason };
}

/** The table's vocabulary. `gap-held`: a declared gap that held here anyway (reported). */
export type Status = 'held' | 'ESCAPED' | 'FALSE-DENY' | 'gap' | 'gap-held' | 'n/a' | 'ERROR';

export function statusOf(promise: Promised, observed: Observed): Status {
  if (observed === 'error') return 'ERROR';
  if (observed === 'n/a') return 'n/a';
  if (promise.mode === 'allow') {
    if (observed === 'worked') return 'held';
    if (observed === 'escaped') return 'ESCAPED';
    if (observed === 'skipped') return 'ERROR';
    return 'FALSE-DENY';
  }
  if (promise.mode === 'gap') {
    if (observed === 'escaped' || observed === 'skipped') return 'gap';
    return 'gap-held';
  }
  // Deny promised. Allowed-work outcomes cannot occur for deny attempts; a skip means
  // the guard misfired, which the suite must not hide.
  if (observed === 'held') return 'held';
  if (observed === 'skipped') return 'ERROR';
  return 'ESCAPED';
}

const SEVERITY: Status[] = ['ESCAPED', 'FALSE-DENY', 'ERROR', 'gap', 'gap-held', 'held', 'n/a'];

/** A case's status is its worst attempt's. */
export function worst(statuses: Status[]): Status {
  for (const s of SEVERITY) if (statuses.includes(s)) return s;
  return 'n/a';
}

export function isFailure(s: Status): boolean {
  return s === 'ESCAPED' || s === 'FALSE-DENY' || s === 'ERROR';
}
