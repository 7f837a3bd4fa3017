import { CelistraError } from '../policy/errors.js';
import { celistraPaths } from '../policy/paths.js';
import { recordedWorktree } from '../worktree/grants.js';
import { hostView, nestedRepositories, worktreeDiffs } from '../worktree/inspect.js';
import { pullWorktree, type PullMode, type PullResult } from '../worktree/pull.js';
import { pullAudited, type PullActor } from '../worktree/pull-audit.js';
import type { WorktreeRecord } from '../worktree/record.js';
import type { DiffCounts } from './diff-stat.js';
import type { DiffFile, TaskDiff } from './task-diff.js';

/**
 * The git work behind a task's diff, diff stat and pull, as the daemon's git workers run
 * it (git-worker.ts): the same host-safe code as `celistra diff` and `celistra pull`
 * (worktree/inspect.ts: a private index, gitlinks skip-worktree, the subprocess trap,
 * the submodule pins), synchronous, so never called on the daemon's event loop.
 */

/** A patch longer than this is cut at a line end (`truncated: true`); the file list stays whole up to MAX_DIFF_FILES. */
export const MAX_PATCH_BYTES = 512 * 1024;
export const MAX_DIFF_FILES = 2000;

/** The task worktree an agent runs in, or undefined for a plain directory. */
function recordOf(workspace: string): WorktreeRecord | undefined {
  return recordedWorktree(workspace, undefined, false)?.record;
}

/** The task worktree an agent runs in, or a 409 saying it runs in a plain directory. */
function taskOf(agent: string, workspace: string): WorktreeRecord {
  const record = recordOf(workspace);
  if (!record) throw new CelistraError('E_CONFLICT', `agent ${agent} does not run in a task worktree (workspace ${workspace}): there is no base to compare with or pull into`);
  return record;
}

export function parseNumstat(text: string): DiffFile[] {
  const files: DiffFile[] = [];
  for (const line of text.split('\n')) {
    const m = /^(-|\d+)\t(-|\d+)\t(.*)$/.exec(line);
    if (!m) continue;
    files.push({ path: m[3]!, added: m[1] === '-' ? null : Number(m[1]), removed: m[2] === '-' ? null : Number(m[2]) });
  }
  return files;
}

function countsOf(files: DiffFile[]): DiffCounts {
  return { files: files.length, added: files.reduce((n, f) => n + (f.added ?? 0), 0), removed: files.reduce((n, f) => n + (f.removed ?? 0), 0) };
}

/** The first `max` bytes of a patch, cut after a whole line (never inside a UTF-8 sequence). */
export function boundPatch(patch: string, max = MAX_PATCH_BYTES): { patch: string; patchBytes: number; truncated: boolean } {
  const bytes = Buffer.from(patch, 'utf8');
  if (bytes.length <= max) return { patch, patchBytes: bytes.length, truncated: false };
  const cut = bytes.lastIndexOf(0x0a, max - 1);
  return { patch: bytes.subarray(0, cut === -1 ? 0 : cut + 1).toString('utf8'), patchBytes: bytes.length, truncated: true };
}

export function taskDiff(agent: string, workspace: string): TaskDiff {
  const record = taskOf(agent, workspace);
  const view = hostView(record);
  const [numstat, patch] = worktreeDiffs(view, [['--numstat'], []]);
  const all = parseNumstat(numstat!);
  const files = all.slice(0, MAX_DIFF_FILES);
  const { added, removed } = countsOf(all);
  return {
    agent,
    task: record.name,
    branch: record.branch,
    files,
    filesOmitted: all.length - files.length,
    added,
    removed,
    ...boundPatch(patch!),
    nested: nestedRepositories(view),
  };
}

/** Files, + and - of the task against its base (no patch); null for an agent in a plain directory. */
export function taskStat(workspace: string): DiffCounts | null {
  const record = recordOf(workspace);
  if (!record) return null;
  const [numstat] = worktreeDiffs(hostView(record), [['--numstat']]);
  return countsOf(parseNumstat(numstat!));
}

export type TaskPull = PullResult & { task: string; nested: string[] };

/** `celistra pull`'s code, audited as a pull `by` the dashboard or another API client. */
export function taskPull(agent: string, workspace: string, mode: PullMode, by: PullActor): TaskPull {
  const record = taskOf(agent, workspace);
  const pulled = pullAudited(celistraPaths().stateDir, record.name, mode, by, () => pullWorktree(record, mode));
  return { ...pulled, task: record.name, nested: nestedRepositories(hostView(record)) };
}
