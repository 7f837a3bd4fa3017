import { lstatSync, mkdirSync, renameSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { AuditSpool } from '../audit/spool.js';
import { celistraPaths } from '../policy/paths.js';
import { markGitlinksSkipWorktree } from './gitlink-guard.js';
import type { WorktreeLayout, WorktreeRecord } from './record.js';
import { quarantineRunnableSequencerState, type QuarantinedState } from './sequencer-quarantine.js';

/**
 * What Celistra does to the task's own git state (admin/, the agent's) so that the
 * user's plain git in the task worktree runs nothing the agent planted there, beyond the
 * submodule pins (submodule-pins.ts): gitlinks of the index marked skip-worktree
 * (gitlink-guard.ts), and rebase / cherry-pick / revert state that would run a program
 * moved into the host-owned quarantine (sequencer-quarantine.ts). Run after every fenced
 * run and by every host-side command on the task, never while a fenced run holds the
 * worktree (the agent's own rebase or index would change under it): then `agentRunning`.
 */
export interface HostGitGuardReport {
  /** A fenced run holds the worktree: nothing was looked at or changed. */
  agentRunning: boolean;
  /** Gitlinks marked skip-worktree in the task's index by this call. */
  skipWorktree: string[];
  /** State moved into the quarantine by this call (the index too, when it could not be guarded). */
  quarantined: QuarantinedState[];
  /** What could not be guarded: your git there may run the agent's code. */
  failures: string[];
}

export function guardHostGit(record: WorktreeRecord, layout: WorktreeLayout, agentRunning: boolean): HostGitGuardReport {
  const report: HostGitGuardReport = { agentRunning, skipWorktree: [], quarantined: [], failures: [] };
  if (agentRunning) return report;
  try {
    report.quarantined.push(...quarantineRunnableSequencerState(layout));
  } catch (e) {
    report.failures.push(`its rebase/cherry-pick state would run a program and could not be moved aside: ${(e as Error).message}`);
  }
  const gitlinks = markGitlinksSkipWorktree(record, layout);
  if ('marked' in gitlinks) report.skipWorktree = gitlinks.marked;
  else {
    // A locked index with gitlinks to mark goes too: the lock is most likely the agent's,
    // and your git's own advice (remove index.lock) would leave you the unguarded index.
    // A git of yours that holds the lock writes its new index in its place, then the hook marks it.
    try {
      report.quarantined.push(quarantineIndex(layout, gitlinks.unguarded));
    } catch (e) {
      report.failures.push(`${gitlinks.unguarded}, and it could not be moved aside: ${(e as Error).message}`);
    }
  }
  if (report.quarantined.length > 0 || report.skipWorktree.length > 0 || report.failures.length > 0) auditGuard(record.name, report);
  return report;
}

/** An index that cannot be guarded goes: without one your git enters no gitlink (it sees untracked files). */
function quarantineIndex(layout: WorktreeLayout, why: string): QuarantinedState {
  const from = join(layout.adminDir, 'index');
  if (!lstatSync(from, { throwIfNoEntry: false })) throw new Error('it vanished');
  const here = join(layout.container, 'quarantine', `${new Date().toISOString().replace(/[:.]/g, '-')}-${randomBytes(4).toString('hex')}`);
  mkdirSync(here, { recursive: true, mode: 0o700 });
  const to = join(here, 'index');
  renameSync(from, to);
  return { state: 'index', reasons: [why], movedTo: to, restore: `mv '${to}' '${from}'` };
}

function auditGuard(task: string, report: HostGitGuardReport): void {
  try {
    const spool = AuditSpool.create(celistraPaths().stateDir);
    try {
      spool.record({ type: 'git-guard', agent: task, data: { task, skipWorktree: report.skipWorktree, quarantined: report.quarantined, failures: report.failures } });
    } finally {
      spool.finish();
    }
  } catch {
    // The state dir is not writable: what was done stands, and the note says it.
  }
}

/** What the after-run step, `diff` and `worktree ls` say on stderr (empty when nothing happened). */
export function guardNote(name: string, report: HostGitGuardReport): string {
  const lines: string[] = [];
  for (const q of report.quarantined) {
    const what = q.state === 'index' ? `its index cannot be kept from entering gitlinks (${q.reasons.join('; ')})` : `its ${q.state} would run a program or act for the agent in your git (${q.reasons.join('; ')})`;
    const after = q.state === 'index' ? ` (then \`celistra worktree ls\`, which marks its gitlinks, before any git of yours there)` : '';
    lines.push(`celistra: task "${name}": ${what}; moved to ${q.movedTo}. Read it, then to put it back: ${q.restore}${after}\n`);
  }
  if (report.skipWorktree.length > 0) {
    lines.push(`celistra: task "${name}": gitlinks marked skip-worktree in its index so that your git add/stash never enter them: ${report.skipWorktree.join(', ')} (to stage a new submodule commit by hand: git update-index --cacheinfo 160000,<commit>,<path>)\n`);
  }
  for (const f of report.failures) lines.push(`celistra: warning: task "${name}": ${f}. Do not run git by hand there until \`celistra worktree ls\` reports no failure.\n`);
  return lines.join('');
}
