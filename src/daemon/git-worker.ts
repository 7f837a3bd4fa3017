import { parentPort } from 'node:worker_threads';
import { CelistraError } from '../policy/errors.js';
import type { GitJob, GitJobAnswer } from './git-job.js';
import { withGitTimeLimit } from '../worktree/git.js';
import { taskDiff, taskPull, taskStat } from './task-git.js';

/**
 * Each git of a background diff stat is stopped after this long (a person's diff or pull
 * keeps the usual limit, worktree/git.ts): an agent that puts a FIFO in its git state
 * holds a worker for seconds per stat, not minutes, and the row shows the failure.
 */
export const STAT_GIT_TIME_LIMIT_MS = 20_000;

/**
 * A git worker thread of the daemon (git-worker-pool.ts): it runs the synchronous,
 * host-safe git code of task-git.ts one job at a time, so the daemon's event loop never
 * waits for git. The git processes are its children; nothing here runs agent code.
 */
function run(job: GitJob): unknown {
  switch (job.op) {
    case 'stat':
      return withGitTimeLimit(STAT_GIT_TIME_LIMIT_MS, () => taskStat(job.workspace));
    case 'diff':
      return taskDiff(job.agent, job.workspace);
    case 'pull':
      return taskPull(job.agent, job.workspace, job.mode, job.by);
  }
}

const port = parentPort;
if (!port) throw new Error('git-worker.js runs as a worker thread of the daemon');
// `stop` closes the port and the thread ends on its own: its exit handlers run (the
// subprocess trap's temp dir is removed), which terminate() would skip.
port.on('message', ({ id, job, stop }: { id: number; job: GitJob; stop?: true }) => {
  if (stop) return port.close();
  let answer: GitJobAnswer;
  try {
    answer = { id, result: run(job) };
  } catch (e) {
    answer = e instanceof CelistraError
      ? { id, error: { code: e.code, message: e.message, ...(e.hint ? { hint: e.hint } : {}) } }
      : { id, error: { code: 'E_INTERNAL', message: e instanceof Error ? e.message : String(e) } };
  }
  port.postMessage(answer);
});
