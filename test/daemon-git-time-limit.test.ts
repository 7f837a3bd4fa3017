/**
 * An agent under the daemon puts a FIFO in its git state (in place of a loose object),
 * where git would wait forever for a writer. The daemon's git workers run each git with a
 * time limit (worktree/git.ts; shorter for background diff stats, git-worker.ts): the
 * row's stat fails saying why, the diff fails with E_GIT, and the daemon goes on serving
 * other tasks' git work instead of losing a worker for good.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TaskDiff } from '../src/daemon/task-diff.js';
import { agent, cleanup, makeSandbox, spawnAgent, startDaemonProcess, waitFor } from './daemon-harness.js';
import { taskRepo } from './dashboard-support.js';

const GIT = `git -c user.email=a@example.test -c user.name=a`;
const PLANT = `echo changed > README && ${GIT} add README && ${GIT} commit -qm change && b=$(git rev-parse HEAD:README) && p="$(git rev-parse --git-path objects)/$(echo $b | cut -c1-2)/$(echo $b | cut -c3-)" && rm -f "$p" && mkfifo "$p" && test -p "$p" && echo PLANTED; exec sleep 300`;

test('a FIFO in an agent\'s git state: its diff stat and diff fail at the time limit, and the other task\'s diff still comes back', async () => {
  const sb = makeSandbox();
  sb.env.CELISTRA_GIT_TIME_LIMIT = '2';
  const daemon = await startDaemonProcess(sb);
  try {
    const trap = taskRepo(sb, 'trap');
    const fine = taskRepo(sb, 'fine');
    await spawnAgent(sb, 'trap', ['sh', '-c', PLANT], { worktree: 'trap', repo: trap.repo, workspace: undefined });
    await spawnAgent(sb, 'fine', ['sh', '-c', 'echo more >> README && echo EDITED && exec sleep 300'], { worktree: 'fine', repo: fine.repo, workspace: undefined });
    await waitFor('the plant', async () => (await sb.client.logs('trap')).includes('PLANTED') || undefined, 30_000);

    const stat = await waitFor('the trap\'s stat to fail', async () => {
      const s = (await agent(sb, 'trap')).diffStat;
      return s?.status === 'failed' ? s : undefined;
    }, 60_000);
    assert.match(stat.reason, /ran longer than 2 s and was stopped/);

    const started = Date.now();
    await assert.rejects(sb.client.call('GET', '/v1/agents/trap/diff'), /ran longer than 2 s and was stopped/);
    assert.ok(Date.now() - started < 30_000, `the diff came back after ${Date.now() - started} ms`);

    // Both workers are free again: the other task's diff, and the trap's stat once more.
    const { diff } = await sb.client.call<{ diff: TaskDiff }>('GET', '/v1/agents/fine/diff');
    assert.deepEqual(diff.files.map((f) => f.path), ['README']);
    assert.equal((await agent(sb, 'fine')).diffStat?.status, 'ok');
  } finally {
    await cleanup(sb, daemon);
  }
});
