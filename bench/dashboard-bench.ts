/**
 * Dashboard figures (docs/benchmarks/dashboard.md), in headless chromium (playwright-core)
 * against a harness daemon on loopback:
 *   1. page ready with N agents: from navigation start (performance.now() = 0) to the
 *      N-th row in the table, session cookie already set; RUNS fresh page loads.
 *   2. a state change reaching the page: `kill` over the unix socket at t0, until the
 *      row's state reads `stopped` (a MutationObserver in the page stamps Date.now();
 *      same machine, same clock); one sample per agent killed. Beside it, when the same
 *      change's `exit` event reached a unix-socket client of the event stream (the audit
 *      log's row, committed).
 * With `--baseline DIR` (another built tree, e.g. main's), a second daemon of that tree
 * runs its own N agents and its own page beside this one, and every load and every kill
 * alternates between the two, so the machine's load hits both alike.
 * Run: npx tsc -p tsconfig.json && node scripts/bundle.js && node dist/bench/dashboard-bench.js [--agents N] [--runs N] [--kills N] [--baseline DIR]
 */
import { existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import type WebSocket from 'ws';
import { openDaemonWebSocket } from '../src/daemon/answer.js';
import { cleanup, makeSandbox, spawnAgent, waitFor, type Sandbox } from '../test/daemon-harness.js';
import { loginLink, startDashboardDaemon, type DashboardDaemon } from '../test/dashboard-support.js';
import { launchChromium, numberFlag } from './chromium.js';
import { machineLine, median, percentile } from './stats.js';

const AGENTS = numberFlag('agents', 100);
const RUNS = numberFlag('runs', 20);
const KILLS = Math.min(numberFlag('kills', 50), AGENTS);
const BASELINE = process.argv.includes('--baseline') ? process.argv[process.argv.indexOf('--baseline') + 1] : undefined;

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

/** One tree's daemon, its agents and its page, with what was measured on it. */
interface Fleet {
  label: string;
  sb: Sandbox;
  d: DashboardDaemon;
  page?: Page;
  stream?: WebSocket;
  exitSeen: Map<string, number>;
  ready: number[];
  toEvent: number[];
  toPage: number[];
}

async function startFleet(label: string, cliMain: string | undefined): Promise<Fleet> {
  const sb = makeSandbox();
  const d = await startDashboardDaemon(sb, [], cliMain);
  const fleet: Fleet = { label, sb, d, exitSeen: new Map(), ready: [], toEvent: [], toPage: [] };
  const t0 = Date.now();
  for (let i = 0; i < AGENTS; i++) await spawnAgent(sb, `agent-${String(i).padStart(3, '0')}`, ['sh', '-c', `echo "up ${i}"; exec sleep 3600`]);
  process.stdout.write(`${label}: spawned ${AGENTS} agents in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
  return fleet;
}

async function openPage(browser: Browser, f: Fleet): Promise<void> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  await context.addInitScript(observeTable, AGENTS);
  f.page = await context.newPage();
  await f.page.goto(loginLink(f.sb));
}

async function loadOnce(f: Fleet, cold: boolean): Promise<void> {
  await f.page!.goto(`${f.d.origin}/`);
  const t = await f.page!.waitForFunction(() => (window as unknown as { __ready?: number }).__ready, undefined, { timeout: 30_000 });
  const ms = (await t.jsonValue())!;
  // The first load compiles the script cold; it is reported apart.
  if (cold) process.stdout.write(`${f.label}: page ready with ${AGENTS} agents, first (cold) load: ${ms.toFixed(1)} ms\n`);
  else f.ready.push(ms);
}

async function followExits(f: Fleet): Promise<void> {
  await f.page!.waitForSelector('#connection:text("live")');
  f.stream = await openDaemonWebSocket(f.sb.client.socketPath, '/v1/events/stream?type=exit', 'event stream');
  f.stream.on('message', (m) => {
    const { event } = JSON.parse(String(m)) as { event?: { agent: string } };
    if (event) f.exitSeen.set(event.agent, Date.now());
  });
  f.stream.resume();
}

async function killOne(f: Fleet, i: number): Promise<void> {
  const name = `agent-${String(i).padStart(3, '0')}`;
  const start = Date.now();
  await f.sb.client.call('POST', `/v1/agents/${name}/kill`, { signal: 'KILL' });
  const seen = await waitFor(`${name} stopped on the page`, async () =>
    f.page!.evaluate((n) => (window as unknown as { __changes: Array<{ name: string; state: string; t: number }> }).__changes.find((c) => c.name === n && c.state === 'stopped')?.t, name),
  );
  f.toPage.push(seen - start);
  f.toEvent.push((await waitFor(`${name}'s exit event`, () => f.exitSeen.get(name))) - start);
}

let baselineMain: string | undefined;
if (BASELINE) {
  baselineMain = join(BASELINE, 'dist', 'src', 'cli', 'main.js');
  if (!existsSync(baselineMain)) throw new Error(`--baseline ${BASELINE}: no ${baselineMain} (build that tree first)`);
}
const fleets: Fleet[] = [];
const browser = await launchChromium();
try {
  process.stdout.write(`machine: ${machineLine()}, chromium ${browser.version()}, load ${loadavg().map((l) => l.toFixed(2)).join(' ')}\n`);
  fleets.push(await startFleet('this tree', undefined));
  if (baselineMain) fleets.push(await startFleet(`baseline (${BASELINE})`, baselineMain));
  for (const f of fleets) await openPage(browser, f);
  for (let r = 0; r < RUNS + 1; r++) for (const f of fleets) await loadOnce(f, r === 0);
  for (const f of fleets) await followExits(f);
  process.stdout.write(`load before the kills: ${loadavg().map((l) => l.toFixed(2)).join(' ')}\n`);
  for (let i = 0; i < KILLS; i++) for (const f of fleets) await killOne(f, i);
  for (const f of fleets) {
    f.stream?.close();
    process.stdout.write(`\n${f.label}:\n`);
    process.stdout.write(`  page ready with ${AGENTS} agents (warm loads): ${fmt(f.ready)}\n`);
    process.stdout.write(`  state change (kill over the unix socket) to its exit event at a unix-socket stream client: ${fmt(f.toEvent)}\n`);
    process.stdout.write(`  state change (kill over the unix socket) to the row on the page: ${fmt(f.toPage)}\n`);
  }
  process.stdout.write(`load at the end: ${loadavg().map((l) => l.toFixed(2)).join(' ')}\n`);
} finally {
  await browser.close();
  for (const f of fleets) await cleanup(f.sb, f.d.daemon);
}
