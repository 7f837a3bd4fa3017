import { AuditSpool } from '../audit/spool.js';
import type { PullMode, PullResult } from './pull.js';

/** Who pulled: the CLI, the dashboard, or another client of the daemon's API. */
export type PullActor = 'cli' | 'dashboard' | 'api';

/**
 * A pull brings an agent's work into the user's branch: the audit log records it (type
 * `pull`), done or refused, beside the agent's spawns and exits. Written to the audit
 * spool, as `celistra run` writes its events (the next daemon or run chains it). Never
 * throws: a pull that happened is not undone because its record could not be written.
 */
export function auditPull(stateDir: string, task: string, mode: PullMode, by: PullActor, outcome: PullResult | { refused: string }): void {
  const data = 'refused' in outcome
    ? { task, mode, by, refused: outcome.refused }
    : { task, mode, by, branch: outcome.branch, into: outcome.into, outcome: outcome.outcome, commit: outcome.commit };
  try {
    const spool = AuditSpool.create(stateDir);
    try {
      spool.record({ type: 'pull', agent: task, data });
    } finally {
      spool.finish();
    }
  } catch {
    // The state dir is not writable (a full disk): the pull itself stands.
  }
}

/** Pull, and record the pull or its refusal. */
export function pullAudited(stateDir: string, task: string, mode: PullMode, by: PullActor, pull: () => PullResult): PullResult {
  let result: PullResult;
  try {
    result = pull();
  } catch (e) {
    auditPull(stateDir, task, mode, by, { refused: e instanceof Error ? e.message : String(e) });
    throw e;
  }
  auditPull(stateDir, task, mode, by, result);
  return result;
}
