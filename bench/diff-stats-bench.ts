/**
 * The daemon's event-loop delay while the fleet's diff stats refresh
 * (docs/benchmarks/dashboard.md, "Diff stats"). A daemon runs in this process, with N
 * agents, each in its own task worktree of one repository, each appending a line to a
 * file and printing it every second — so every agent's stat is due at every interval.
 * Over a window of S seconds: perf_hooks.monitorEventLoopDelay on the daemon's loop, how
 * many stats were published (event stream, diffStats=1), and how long `GET /v1/agents`
 * took. For scale, the same stat computed synchronously (what running git on the loop
 * would block it for) is timed too.
 * Run: npx tsc -p tsconfig.json && node scripts/bundle.js && node dist/bench/diff-stats-bench.js [--agents 100] [--seconds 30] [--interval-ms 5000]
 */
import { spawnSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import { startDaemon } from '../src/daemon/server.js';
import { taskStat } from '../src/daemon/task-git.js';
import type { DiffStatMessage } from '../src/daemon/diff-stat.js';
import { CLI_MAIN, makeSandbox, sandboxPids, spawnAgent, waitFor } from '../test/daemon-harness.js';
import { taskRepo } from '../test/dashboard-support.js';
import { numberFlag } from './chromium.js';
import { machineLine, median, percentile } from './stats.js';

const AGENTS = numberFlag('agents', 100);
const SECONDS = numberFlag('seconds', 30);
const INTERVAL_MS = numberFlag('interval-ms', 5000);
const ms = (ns: number) => ns / 1e6;
const fmt = (xs: number[]) => `p50 ${median(xs).toFixed(1)} ms, p99 ${percentile(xs, 99).toFixed(1)} ms, max ${Math.max(...xs).toFixed(1)} ms (n=${xs.length})`;

const sb = makeSandbox();
// The daemon's git workers read the state dir from the environment, as a real daemon does.
Object.assign(process.env, sb.env);
const daemon = await startDaemon({ paths: sb.paths, dashboardPort: 'off', diffStatIntervalMs: INTERVAL_MS, log: () => undefined });
try {
  process.stdout.write(`machine: ${machineLine()}, load ${loadavg()[0]!.toFixed(2)} at start\n`);
  const names = Array.from({ length: AGENTS }, (_, i) => `t${String(i).padStart(3, '0')}`);
  const { repo } = taskRepo(sb, names[0]!);
  let t = Date.now();
  for (const name of names.slice(1)) {
    const r = spawnSync(process.execPath, [CLI_MAIN, 'worktree', 'add', name], { cwd: repo, env: sb.env, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`worktree add ${name}: ${r.stderr}`);
  }
  process.stdout.write(`${AGENTS} task worktrees in ${((Date.now() - t) / 1000).toFixed(1)} s\n`);

  const latest = new Map<string, DiffStatMessage['diffStat']['stat']>();
  let published = 0;
  const ws = new WebSocket(`ws+unix://${daemon.socketPath}:/v1/events/stream?diffStats=1`);
  ws.on('message', (m) => {
    const msg = JSON.parse(String(m)) as Partial<DiffStatMessage>;
    if (!msg.diffStat) return;
    published++;
    latest.set(msg.diffStat.agent, msg.diffStat.stat);
  });
  await new Promise((r) => ws.once('open', r));

  t = Date.now();
  const script = 'i=0; while :; do i=$((i+1)); echo "line $i" >> work.txt; echo "tick $i"; sleep 1; done';
  for (const name of names) await spawnAgent(sb, name, ['sh', '-c', script], { worktree: name, repo, workspace: undefined });
  process.stdout.write(`spawned ${AGENTS} agents in ${((Date.now() - t) / 1000).toFixed(1)} s\n`);
  await waitFor('a first stat for every agent', () => (names.every((n) => latest.get(n)?.status === 'ok') ? true : undefined), 600_000);
  process.stdout.write(`every agent measured once, ${((Date.now() - t) / 1000).toFixed(1)} s after the first spawn\n`);

  const loop = monitorEventLoopDelay({ resolution: 1 });
  const listing: number[] = [];
  const before = published;
  const load0 = loadavg()[0]!;
  loop.enable();
  const end = Date.now() + SECONDS * 1000;
  while (Date.now() < end) {
    const s = performance.now();
    await sb.client.call('GET', '/v1/agents');
    listing.push(performance.now() - s);
    await new Promise((r) => setTimeout(r, 200));
  }
  loop.disable();
  const stats = published - before;
  process.stdout.write(`window ${SECONDS} s, load ${load0.toFixed(2)} → ${loadavg()[0]!.toFixed(2)}, refresh interval ${INTERVAL_MS} ms\n`);
  process.stdout.write(`event-loop delay: p50 ${ms(loop.percentile(50)).toFixed(1)} ms, p99 ${ms(loop.percentile(99)).toFixed(1)} ms, max ${ms(loop.max).toFixed(1)} ms, mean ${ms(loop.mean).toFixed(1)} ms\n`);
  process.stdout.write(`stats published: ${stats} (${(stats / SECONDS).toFixed(1)}/s; each agent every ${((SECONDS * AGENTS) / Math.max(1, stats)).toFixed(1)} s on average)\n`);
  process.stdout.write(`GET /v1/agents (${AGENTS} agents): ${fmt(listing)}\n`);
  ws.terminate();

  // For scale: one stat on the loop blocks it this long (what the daemon would do without workers).
  const sync: number[] = [];
  for (const name of names.slice(0, 10)) {
    const { workspace } = await sb.client.call<{ agent: { workspace: string } }>('GET', `/v1/agents/${name}`).then((r) => r.agent);
    const s = performance.now();
    taskStat(workspace);
    sync.push(performance.now() - s);
  }
  process.stdout.write(`one stat computed synchronously (same code, this loop): ${fmt(sync)}\n`);
} finally {
  await daemon.supervisor.stopAll(2000).catch(() => undefined);
  await daemon.stop();
  for (const pid of sandboxPids(sb)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
}
