import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Supervisor } from './supervisor.js';
import type { PullMode } from '../worktree/pull.js';
import { isFromDashboard } from './dashboard/request.js';
import { HttpError, sendJson } from './http-error.js';
import type { TaskDiff } from './task-diff.js';
import type { TaskPull } from './task-git.js';
import type { GitWorkerPool } from './git-worker-pool.js';
import type { DiffStatTracker } from './diff-stat-tracker.js';

const PULL_MODES: PullMode[] = ['merge', 'ff-only', 'squash'];
/** One pull at a time: pulls write the main checkout (as they did when they ran on the event loop). */
const PULLS = 'pull';

/** The daemon's git work for tasks: its worker pool, and the fleet's diff stats to refresh after a pull. */
export interface TaskWork {
  pool: GitWorkerPool;
  diffStats?: DiffStatTracker;
}

/**
 * `/v1/agents/:name/diff` and `/v1/agents/:name/pull`: the task an agent works in, seen
 * and pulled by the same code as `celistra diff` and `celistra pull` (a refusal is that
 * code's error: dirty main checkout, conflict, diverged with ff-only), run by a git worker
 * (git-worker-pool.ts) so the daemon answers everyone else meanwhile. True when handled.
 */
export async function routeTask(supervisor: Supervisor, work: TaskWork, req: IncomingMessage, res: ServerResponse, name: string, action: string, body: () => Promise<Record<string, unknown>>): Promise<boolean> {
  const method = req.method ?? 'GET';
  if (action === 'diff') {
    if (method !== 'GET') throw new HttpError(405, 'E_USAGE', `${method} is not allowed on the diff (allowed: GET)`);
    const { workspace } = supervisor.describe(name);
    const diff = await work.pool.run<TaskDiff>({ op: 'diff', agent: name, workspace }, [workspace], 'user');
    sendJson(res, 200, { diff });
    return true;
  }
  if (action === 'pull') {
    if (method !== 'POST') throw new HttpError(405, 'E_USAGE', `${method} is not allowed on pull (allowed: POST)`);
    const b = await body();
    const mode = b.mode ?? 'merge';
    if (typeof mode !== 'string' || !(PULL_MODES as string[]).includes(mode)) throw new HttpError(400, 'E_USAGE', `"mode" must be one of ${PULL_MODES.join(', ')}`);
    const { workspace } = supervisor.describe(name);
    const by = isFromDashboard(req) ? 'dashboard' : 'api';
    try {
      const pull = await work.pool.run<TaskPull>({ op: 'pull', agent: name, workspace, mode: mode as PullMode, by }, [workspace, PULLS], 'user');
      sendJson(res, 200, { pull });
    } finally {
      // Pulled or refused, the base may have moved: the row's stat is measured again.
      work.diffStats?.refreshNow(name);
    }
    return true;
  }
  return false;
}
