/**
 * Dashboard figures (docs/benchmarks/dashboard.md), in headless chromium (playwright-core)
 * against a harness daemon on loopback:
 *   1. page ready with N agents: from navigation start (performance.now() = 0) to the
 *      N-th row in the table, session cookie already set; RUNS fresh page loads.
 *   2. a state change reaching the page: `kill` over the unix socket at t0, until the
 *      row's state reads `stopped` (a MutationObserver in the page stamps Date.now();
 *      same machine, same clock); one sample per agent killed. Beside it, when the same
 *      change's `exit` event reached a unix-socket client of the event stream: the part
 *      of the delay that is the daemon noticing the exit, before any page is involved.
 * Run: npx tsc -p tsconfig.json && node scripts/bundle.js && node dist/bench/dashboard-bench.js [--agents N] [--runs N] [--kills N]
 */
import { loadavg } from 'node:os';
import { openDaemonWebSocket } from '../src/daemon/answer.js';
import { cleanup, makeSandbox, spawnAgent, waitFor } from '../test/daemon-harness.js';
import { loginLink, startDashboardDaemon } from '../test/dashboard-support.js';
import { launchChromium, numberFlag } from './chromium.js';
import { machineLine, median, percentile } from './stats.js';

const AGENTS = numberFlag('agents', 100);
const RUNS = numberFlag('runs', 20);
const KILLS = Math.min(numberFlag('kills', 50), AGENTS);

/** Runs in the page before its own script: stamps when the table first has `want` rows, and every state change. */
function observeTable(want: number): void {
  const w = window as unknown as { __ready?: number; __changes: Array<{ name: string; state: string; t: number }> };
  w.__changes = [];
  const seen = new Map<string, string>();
  new MutationObserver(() => {
    const rows = document.querySelectorAll<HTMLTableRowElement>('#fleet-rows tr');
    if (w.__ready === undefined && rows.length >= want) w.__ready = performance.now();
    for (const tr of rows) {
      const name = tr.dataset.agent ?? '';
      const state = tr.querySelector('.state')?.textContent ?? '';
      if (seen.get(name) !== state) {
        seen.set(name, state);
        w.__changes.push({ name, state, t: Date.now() });
      }
    }
  }).observe(document, { childList: true, subtree: true, characterData: true });
}

const fmt = (xs: number[]) => `p50 ${median(xs).toFixed(1)} ms, p99 ${percentile(xs, 99).toFixed(1)} ms, max ${Math.max(...xs).toFixed(1)} ms (n=${xs.length})`;

const sb = makeSandbox();
const d = await startDashboardDaemon(sb);
const browser = await launchChromium();
try {
  process.stdout.write(`machine: ${machineLine()}, chromium ${browser.version()}, load ${loadavg()[0]!.toFixed(2)}\n`);
  const t0 = Date.now();
  for (let i = 0; i < AGENTS; i++) await spawnAgent(sb, `agent-${String(i).padStart(3, '0')}`, ['sh', '-c', `echo "up ${i}"; exec sleep 3600`]);
  process.stdout.write(`spawned ${AGENTS} agents in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);

  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  await context.addInitScript(observeTable, AGENTS);
  const page = await context.newPage();
  await page.goto(loginLink(sb));
  const ready: number[] = [];
  for (let r = 0; r < RUNS + 1; r++) {
    await page.goto(`${d.origin}/`);
    const t = await page.waitForFunction(() => (window as unknown as { __ready?: number }).__ready, undefined, { timeout: 30_000 });
    // The first load compiles the script cold; it is reported apart.
    if (r === 0) process.stdout.write(`page ready with ${AGENTS} agents, first (cold) load: ${(await t.jsonValue())!.toFixed(1)} ms\n`);
    else ready.push((await t.jsonValue())!);
  }
  process.stdout.write(`page ready with ${AGENTS} agents (warm loads): ${fmt(ready)}\n`);

  await page.waitForSelector('#connection:text("live")');
  const exitSeen = new Map<string, number>();
  const stream = await openDaemonWebSocket(sb.client.socketPath, '/v1/events/stream?type=exit', 'event stream');
  stream.on('message', (m) => {
    const { event } = JSON.parse(String(m)) as { event?: { agent: string } };
    if (event) exitSeen.set(event.agent, Date.now());
  });
  stream.resume();
  const latencies: number[] = [];
  const toEvent: number[] = [];
  for (let i = 0; i < KILLS; i++) {
    const name = `agent-${String(i).padStart(3, '0')}`;
    const start = Date.now();
    await sb.client.call('POST', `/v1/agents/${name}/kill`, { signal: 'KILL' });
    const seen = await waitFor(`${name} stopped on the page`, async () =>
      page.evaluate((n) => (window as unknown as { __changes: Array<{ name: string; state: string; t: number }> }).__changes.find((c) => c.name === n && c.state === 'stopped')?.t, name),
    );
    latencies.push(seen - start);
    toEvent.push((await waitFor(`${name}'s exit event`, () => exitSeen.get(name))) - start);
  }
  stream.close();
  process.stdout.write(`state change (kill over the unix socket) to its exit event at a unix-socket stream client: ${fmt(toEvent)}\n`);
  process.stdout.write(`state change (kill over the unix socket) to the row on the page: ${fmt(latencies)}\n`);
} finally {
  await browser.close();
  await cleanup(sb, d.daemon);
}
