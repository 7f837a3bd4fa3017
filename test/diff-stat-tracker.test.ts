// The fleet's diff stats (src/daemon/diff-stat-tracker.ts) and the git worker pool
// (src/daemon/git-worker-pool.ts): when a stat is computed, how many at once, and that
// the daemon's git runs off its event loop.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DiffStatTracker } from '../src/daemon/diff-stat-tracker.js';
import type { DiffCounts, DiffStat } from '../src/daemon/diff-stat.js';
import { GitWorkerPool } from '../src/daemon/git-worker-pool.js';

interface Call {
  workspace: string;
  finish(counts: DiffCounts | null | Error): void;
}

function harness(agents: Record<string, string>, intervalMs = 50, concurrency = 1) {
  const calls: Call[] = [];
  const published: [string, DiffStat | null][] = [];
  let running = 0;
  let maxRunning = 0;
  const tracker = new DiffStatTracker({
    compute: (workspace) =>
      new Promise((resolve, reject) => {
        running++;
        maxRunning = Math.max(maxRunning, running);
        calls.push({
          workspace,
          finish: (c) => {
            running--;
            if (c instanceof Error) reject(c);
            else resolve(c);
          },
        });
      }),
    workspaceOf: (agent) => agents[agent],
    publish: (agent, stat) => published.push([agent, stat]),
    intervalMs,
    concurrency,
  });
  return { tracker, calls, published, maxRunning: () => maxRunning };
}

const tick = () => new Promise((r) => setImmediate(r));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('a new agent is pending, then its counts are published once; unchanged counts are not published again', async () => {
  const h = harness({ a: '/w/a' });
  assert.deepEqual(h.tracker.get('a'), { status: 'pending' });
  assert.equal(h.calls.length, 1);
  h.calls[0]!.finish({ files: 2, added: 5, removed: 1 });
  await tick();
  assert.deepEqual({ ...h.tracker.get('a'), at: 0 }, { status: 'ok', files: 2, added: 5, removed: 1, at: 0 });
  assert.equal(h.published.length, 1);
  h.tracker.refreshNow('a');
  assert.equal(h.calls.length, 2);
  h.calls[1]!.finish({ files: 2, added: 5, removed: 1 });
  await tick();
  assert.equal(h.published.length, 1, 'the same counts again are not news');
  h.tracker.close();
});

test('an agent outside a task worktree is null and never measured again; an unknown agent is null', async () => {
  const h = harness({ plain: '/w/plain' });
  h.tracker.get('plain');
  h.calls[0]!.finish(null);
  await tick();
  assert.equal(h.tracker.get('plain'), null);
  h.tracker.outputMoved('plain');
  h.tracker.refreshNow('plain');
  await sleep(80);
  assert.equal(h.calls.length, 1);
  assert.equal(h.tracker.get('nobody'), null);
  h.tracker.close();
});

test('output moves the stat at most once per interval; without output nothing is computed', async () => {
  const h = harness({ a: '/w/a' }, 150);
  h.tracker.get('a');
  h.calls[0]!.finish({ files: 1, added: 1, removed: 0 });
  await tick();
  await sleep(200);
  assert.equal(h.calls.length, 1, 'no output, no git');
  for (let i = 0; i < 50; i++) h.tracker.outputMoved('a');
  assert.equal(h.calls.length, 2, 'the interval since the last start has passed: at once');
  h.calls[1]!.finish({ files: 1, added: 2, removed: 0 });
  await tick();
  for (let i = 0; i < 50; i++) h.tracker.outputMoved('a');
  await sleep(50);
  assert.equal(h.calls.length, 2, 'within the interval: waits');
  await sleep(200);
  assert.equal(h.calls.length, 3, 'one computation for the burst, after the interval');
  h.calls[2]!.finish({ files: 1, added: 3, removed: 0 });
  await tick();
  assert.deepEqual(h.published.map(([, s]) => (s as { added: number }).added), [1, 2, 3]);
  h.tracker.close();
});

test('a hundred agents are measured one at a time (the bound), exits ahead of periodic refreshes', async () => {
  const agents = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`a${i}`, `/w/a${i}`]));
  const h = harness(agents, 0, 1);
  for (const name of Object.keys(agents)) h.tracker.get(name);
  assert.equal(h.calls.length, 1);
  h.tracker.refreshNow('a99');
  for (let i = 0; i < 100; i++) {
    h.calls[i]!.finish({ files: i, added: i, removed: 0 });
    await tick();
    if (i === 0) assert.equal(h.calls[1]!.workspace, '/w/a99', 'the exit jumps the queue');
  }
  assert.equal(h.calls.length, 100);
  assert.equal(h.maxRunning(), 1);
  h.tracker.close();
});

test('a failed computation is published with its reason; a removed agent is forgotten', async () => {
  const agents: Record<string, string> = { a: '/w/a' };
  const h = harness(agents);
  h.tracker.get('a');
  h.calls[0]!.finish(new Error('the task branch agent/a no longer exists'));
  await tick();
  const s = h.tracker.get('a');
  assert.equal(s?.status, 'failed');
  assert.match((s as { reason: string }).reason, /no longer exists/);
  h.tracker.refreshNow('a');
  delete agents.a;
  h.calls[1]!.finish({ files: 1, added: 1, removed: 1 });
  await tick();
  assert.equal(h.published.length, 1, 'nothing published for an agent removed meanwhile');
  assert.equal(h.tracker.get('a'), null);
  h.tracker.close();
});

test('failures in a row double the interval of output-driven refreshes; a success resets it; an exit still goes at once', async () => {
  const h = harness({ a: '/w/a' }, 250);
  h.tracker.get('a');
  h.calls[0]!.finish(new Error('git diff ran longer than 20 s and was stopped'));
  await tick();
  // One failure: the next output-driven computation waits 2 intervals (500 ms), not 1.
  for (let i = 0; i < 10; i++) h.tracker.outputMoved('a');
  await sleep(300);
  assert.equal(h.calls.length, 1, 'retried after one interval despite the failure');
  await sleep(350);
  assert.equal(h.calls.length, 2, 'not retried after two intervals');
  h.calls[1]!.finish(new Error('again'));
  await tick();
  // Two failures: 4 intervals (1 s).
  h.tracker.outputMoved('a');
  await sleep(600);
  assert.equal(h.calls.length, 2, 'retried before four intervals after two failures');
  // An exit is measured at once whatever the backoff.
  h.tracker.refreshNow('a');
  assert.equal(h.calls.length, 3, 'an exit waited for the backoff');
  h.calls[2]!.finish({ files: 1, added: 1, removed: 0 });
  await tick();
  // A success: back to one interval.
  h.tracker.outputMoved('a');
  await sleep(400);
  assert.equal(h.calls.length, 4, 'the interval did not reset after a success');
  h.calls[3]!.finish({ files: 1, added: 2, removed: 0 });
  await tick();
  h.tracker.close();
});

test('the pool runs jobs in worker threads: the event loop stays free while git works, one job per key at a time', async () => {
  // A stand-in worker that blocks its own thread 300 ms per job, as a long git would.
  const src = `import { parentPort } from 'node:worker_threads';
parentPort.on('message', ({ id, job, stop }) => {
  if (stop) return parentPort.close();
  const t = Date.now(); while (Date.now() - t < 300) {}
  parentPort.postMessage({ id, result: { workspace: job.workspace, start: t } });
});`;
  const pool = new GitWorkerPool({ size: 2, workerUrl: new URL(`data:text/javascript,${encodeURIComponent(src)}`) });
  try {
    let ticks = 0;
    const timer = setInterval(() => ticks++, 10);
    const started = Date.now();
    const [a, b, c] = await Promise.all([
      pool.run<{ start: number }>({ op: 'stat', workspace: 'x' }, ['x'], 'background'),
      pool.run<{ start: number }>({ op: 'stat', workspace: 'x' }, ['x'], 'background'),
      pool.run<{ start: number }>({ op: 'stat', workspace: 'y' }, ['y'], 'background'),
    ]);
    clearInterval(timer);
    const took = Date.now() - started;
    assert.ok(ticks >= took / 10 / 3, `the loop ticked ${ticks} times in ${took} ms while workers were busy`);
    assert.ok(Math.abs(a.start - c.start) < 250, 'different keys run side by side');
    assert.ok(b.start - a.start >= 290, 'the same key waits for the first job');
    assert.deepEqual(pool.load, { queued: 0, running: 0, workers: 2 });
  } finally {
    await pool.close();
  }
  assert.equal(pool.load.workers, 0);
});

test('a job error keeps its code; a real stat of a plain directory is null', async () => {
  const pool = new GitWorkerPool({ size: 1 });
  try {
    assert.equal(await pool.run({ op: 'stat', workspace: '/' }, ['/'], 'background'), null);
    await assert.rejects(pool.run({ op: 'diff', agent: 'p', workspace: '/' }, ['/'], 'user'), (e: Error & { code?: string }) => e.code === 'E_CONFLICT' && /does not run in a task worktree/.test(e.message));
  } finally {
    await pool.close();
  }
});
