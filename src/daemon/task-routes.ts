import type { IncomingMessage, ServerResponse } from 'node:http';
import { CelistraError } from '../policy/errors.js';
import type { Supervisor } from './supervisor.js';
import { recordedWorktree } from '../worktree/grants.js';
import { hostView, nestedRepositories, worktreeDiffs } from '../worktree/inspect.js';
import { pullWorktree, type PullMode } from '../worktree/pull.js';
import { pullAudited } from '../worktree/pull-audit.js';
import { celistraPaths } from '../policy/paths.js';
import { isFromDashboard } from './dashboard/request.js';
import type { WorktreeRecord } from '../worktree/record.js';
import { HttpError, sendJson } from './http-error.js';
import type { DiffFile, TaskDiff } from './task-diff.js';

/** A patch longer than this is cut at a line end (`truncated: true`); the file list stays whole up to MAX_DIFF_FILES. */
export const MAX_PATCH_BYTES = 512 * 1024;
export const MAX_DIFF_FILES = 2000;
const PULL_MODES: PullMode[] = ['merge', 'ff-only', 'squash'];

/** The task worktree an agent runs in, or a 409 saying it runs in a plain directory. */
function taskOf(supervisor: Supervisor, name: string): WorktreeRecord {
  const { workspace } = supervisor.describe(name);
  const found = recordedWorktree(workspace, undefined, false);
  if (!found) throw new CelistraError('E_CONFLICT', `agent ${name} does not run in a task worktree (workspace ${workspace}): there is no base to compare with or pull into`);
  return found.record;
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

/** The first `max` bytes of a patch, cut after a whole line (never inside a UTF-8 sequence). */
export function boundPatch(patch: string, max = MAX_PATCH_BYTES): { patch: string; patchBytes: number; truncated: boolean } {
  const bytes = Buffer.from(patch, 'utf8');
  if (bytes.length <= max) return { patch, patchBytes: bytes.length, truncated: false };
  const cut = bytes.lastIndexOf(0x0a, max - 1);
  return { patch: bytes.subarray(0, cut === -1 ? 0 : cut + 1).toString('utf8'), patchBytes: bytes.length, truncated: true };
}

export function taskDiff(supervisor: Supervisor, name: string): TaskDiff {
  const record = taskOf(supervisor, name);
  const view = hostView(record);
  const [numstat, patch] = worktreeDiffs(view, [['--numstat'], []]);
  const all = parseNumstat(numstat!);
  const files = all.slice(0, MAX_DIFF_FILES);
  return {
    agent: name,
    task: record.name,
    branch: record.branch,
    files,
    filesOmitted: all.length - files.length,
    added: all.reduce((n, f) => n + (f.added ?? 0), 0),
    removed: all.reduce((n, f) => n + (f.removed ?? 0), 0),
    ...boundPatch(patch!),
    nested: nestedRepositories(view),
  };
}

/**
 * `/v1/agents/:name/diff` and `/v1/agents/:name/pull`: the task an agent works in, seen
 * and pulled by the same code as `celistra diff` and `celistra pull` (a refusal is that
 * code's error: dirty main checkout, conflict, diverged with ff-only). True when handled.
 */
export async function routeTask(supervisor: Supervisor, req: IncomingMessage, res: ServerResponse, name: string, action: string, body: () => Promise<Record<string, unknown>>): Promise<boolean> {
  const method = req.method ?? 'GET';
  if (action === 'diff') {
    if (method !== 'GET') throw new HttpError(405, 'E_USAGE', `${method} is not allowed on the diff (allowed: GET)`);
    sendJson(res, 200, { diff: taskDiff(supervisor, name) });
    return true;
  }
  if (action === 'pull') {
    if (method !== 'POST') throw new HttpError(405, 'E_USAGE', `${method} is not allowed on pull (allowed: POST)`);
    const b = await body();
    const mode = b.mode ?? 'merge';
    if (typeof mode !== 'string' || !(PULL_MODES as string[]).includes(mode)) throw new HttpError(400, 'E_USAGE', `"mode" must be one of ${PULL_MODES.join(', ')}`);
    const record = taskOf(supervisor, name);
    const pulled = pullAudited(celistraPaths().stateDir, record.name, mode as PullMode, isFromDashboard(req) ? 'dashboard' : 'api', () => pullWorktree(record, mode as PullMode));
    sendJson(res, 200, { pull: { ...pulled, task: record.name, nested: nestedRepositories(hostView(record)) } });
    return true;
  }
  return false;
}
