import { parentPort } from 'node:worker_threads';
import { CelistraError } from '../policy/errors.js';
import type { GitJob, GitJobAnswer } from './git-job.js';
import { taskDiff, taskPull, taskStat } from './task-git.js';

/**
 * A git worker thread of the daemon (git-worker-pool.ts): it runs the synchronous,
 * host-safe git code of task-git.ts one job at a time, so the daemon's event loop never
 * waits for git. The git processes are its children; nothing here runs agent code.
 */
function run(job: GitJob): unknown {
  switch (job.op) {
    case 'stat':
      return taskStat(job.workspace);
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
