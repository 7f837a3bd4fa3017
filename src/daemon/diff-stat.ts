/**
 * A task's diff stat as a fleet row shows it: the agent object's `diffStat` in
 * `GET /v1/agents` (docs/api.md), and the `diffStat` messages of the event stream.
 * `null` for an agent that does not run in a task worktree. Types only, so that the page
 * (web/) shares them.
 */
export type DiffStat =
  /** Not computed yet (a new agent, or a daemon just started). */
  | { status: 'pending' }
  /** Files changed against the base, lines added and removed (a binary file counts as a file, not lines). */
  | { status: 'ok'; files: number; added: number; removed: number; at: number }
  /** git could not tell (the branch was deleted, a tampered object store, ...): `reason` says why. */
  | { status: 'failed'; reason: string; at: number };

/** What the worker computes: the counts, or null when the agent is not in a task worktree. */
export interface DiffCounts {
  files: number;
  added: number;
  removed: number;
}

/** An event stream message (with `diffStats=1`): an agent's stat changed. */
export interface DiffStatMessage {
  diffStat: { agent: string; stat: DiffStat | null };
}
