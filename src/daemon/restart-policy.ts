/**
 * When a crashed agent is started again. A crash is an exit the user did not ask for
 * with a non-zero status or a signal; a user's `ctl kill` is never one.
 */
export interface RestartPolicy {
  /** Delay before the first restart; doubled for each further crash in the window. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** More than `maxCrashes` crashes within `windowMs` → crashed-out. */
  maxCrashes: number;
  windowMs: number;
}

export const DEFAULT_RESTART_POLICY: RestartPolicy = { baseDelayMs: 500, maxDelayMs: 30_000, maxCrashes: 5, windowMs: 60_000 };

export type RestartDecision = { action: 'restart'; delayMs: number } | { action: 'crashed-out'; crashesInWindow: number };

/** The crash times still inside the window, oldest first. */
export function crashesInWindow(crashTimes: number[], now: number, policy: RestartPolicy): number[] {
  return crashTimes.filter((t) => now - t < policy.windowMs).sort((a, b) => a - b);
}

/** Decide after a crash; `crashTimes` already includes the crash being decided on. */
export function decideRestart(crashTimes: number[], now: number, policy: RestartPolicy): RestartDecision {
  const recent = crashesInWindow(crashTimes, now, policy);
  if (recent.length > policy.maxCrashes) return { action: 'crashed-out', crashesInWindow: recent.length };
  const exponent = Math.max(0, recent.length - 1);
  return { action: 'restart', delayMs: Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** exponent) };
}
