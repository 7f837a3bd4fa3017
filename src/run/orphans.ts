import { loadOrphanReaper } from '../backends/landlock/native-addon.js';

/**
 * A `celistra run` that stays in Node (relayed stdio, a terminal, limits, a task
 * worktree) under the Landlock backend. Without namespaces nothing but the helper's own
 * subreaper role keeps what the command leaves running (setsid, double forks) inside the
 * run; if the helper alone is SIGKILLed from outside, those processes would be reparented
 * to the host's init and live on. So this process becomes a subreaper too before it
 * spawns the helper, and once the helper is gone it ends every child left: those can only
 * be processes the command left behind (docs/security.md, the gaps; conformance case 26).
 * With namespaces the pid namespace already ends them; nothing is left to find.
 */
export interface OrphanGuard {
  /** After the run's own child was reaped: SIGKILL and reap what was reparented here; how many. */
  end(): number;
}

export function guardAgainstOrphans(): OrphanGuard | undefined {
  const reaper = loadOrphanReaper();
  if (!reaper) return undefined;
  reaper.becomeSubreaper();
  return { end: () => reaper.endOrphans() };
}
