/**
 * 100 MB of agent output to one browser tab (docs/benchmarks/dashboard.md), beside the same
 * flood with no client and with one terminal client (a read-only attach WebSocket over the
 * unix socket, as `ctl attach` uses), in one run, so the ratios compare like with like on
 * whatever load the machine has.
 *
 * The agent (backend none, as bench/daemon-bench.ts) waits for a line, then prints MB
 * megabytes of 80-byte lines and its own elapsed time: "the agent is never slowed" means
 * that time does not grow with a client attached. The tab is headless chromium with the
 * dashboard attached to the agent (xterm.js drawing); an init script counts the binary
 * bytes and the resyncs its attach socket receives.
 * With `--baseline DIR` (another built tree, e.g. main's), that tree's daemon and page run
 * the same three modes, interleaved with this tree's. CPU per process comes from /proc
 * (bench/proc-cpu.ts), from "go" until the client went quiet.
 * Run: npx tsc -p tsconfig.json && node scripts/bundle.js && node dist/bench/dashboard-output-bench.js [--mb 100] [--runs 3] [--baseline DIR]
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadavg } from 'node:os';
import type { Page } from 'playwright-core';
import type WebSocket from 'ws';
import { cleanup, makeSandbox, sleep, waitFor, type Sandbox } from '../test/daemon-harness.js';
import { loginLink, spyOnAttach, startDashboardDaemon, type AttachSpy, type DashboardDaemon } from '../test/dashboard-support.js';
import { launchChromium, numberFlag } from './chromium.js';
import { machineLine, median } from './stats.js';
import { childrenNamed, processCpuMs, treeCpuMs } from './proc-cpu.js';

const MB = numberFlag('mb', 100);
const RUNS = numberFlag('runs', 3);
const BASELINE = process.argv.includes('--baseline') ? process.argv[process.argv.indexOf('--baseline') + 1] : undefined;
const BYTES = MB * 1_000_000;
const LINE = 'x'.repeat(79);
const FLOOD = `read go; s=$(date +%s%N); yes '${LINE}' | head -c ${BYTES}; e=$(date +%s%N); echo; echo "agent-took-ms $(( (e - s) / 1000000 ))"; exec sleep 3600`;

type Mode = 'no client' | 'terminal client' | 'browser tab';
/** One built tree's daemon and its dashboard page. */
interface Tree {
  label: string;
  sb: Sandbox;
  d: DashboardDaemon;
  page: Page;
}

interface Run {
  tree: string;
  mode: Mode;
  agentMs: number;
  /** From "go" until the client's last byte (null without a client). */
  deliveredMs: number | null;
  bytes: number | null;
  resyncs: number | null;
  /** Screens received in screen mode (reason "screens"). */
  screens: number | null;
  /** CPU ms spent from "go" until the client went quiet, per process (from /proc). */
  cpu: { agent: number; holder: number; daemon: number; chromium: number; bench: number };
}

/** The processes whose CPU a run counts. */
interface Watched {
  agentPid: number;
  holderPid: number;
  daemonPid: number;
  chromiumPid: number | undefined;
}

function cpuNow(w: Watched): Run['cpu'] {
  const bench = process.cpuUsage();
  return {
    // The shell and the `yes | head` it has reaped.
    agent: treeCpuMs(w.agentPid),
    holder: processCpuMs(w.holderPid),
    daemon: processCpuMs(w.daemonPid),
    chromium: w.chromiumPid === undefined ? 0 : treeCpuMs(w.chromiumPid),
    // This process: the terminal client's reader, and playwright's calls.
    bench: (bench.user + bench.system) / 1000,
  };
}

function cpuSince(before: Run['cpu'], after: Run['cpu']): Run['cpu'] {
  const d = (k: keyof Run['cpu']) => Math.round(after[k] - before[k]);
  return { agent: d('agent'), holder: d('holder'), daemon: d('daemon'), chromium: d('chromium'), bench: d('bench') };
}

async function agentTook(sb: Sandbox, name: string): Promise<number> {
  return waitFor(`${name} done`, async () => {
    const m = /agent-took-ms (\d+)/.exec((await sb.client.logs(name)).toString());
    return m ? Number(m[1]) : undefined;
  }, 600_000);
}

async function oneRun(t: Tree, mode: Mode, i: number): Promise<Run> {
  const { sb, page, d } = t;
  const name = `flood-${mode.split(' ')[0]}-${i}`;
  const { agent } = await sb.client.call<{ agent: { pid: number; holderPid: number } }>('POST', '/v1/agents', { name, argv: ['sh', '-c', FLOOD], workspace: sb.workspace, backend: 'none', cols: 80, rows: 24 });
  const watched: Watched = { agentPid: agent.pid, holderPid: agent.holderPid, daemonPid: d.daemon.pid, chromiumPid: childrenNamed(process.pid, /chrom/)[0] };
  let ws: WebSocket | undefined;
  let bytes = 0;
  let last = 0;
  if (mode === 'terminal client') {
    ws = await sb.client.attach(name, { readOnly: 1 });
    ws.on('message', (d: Buffer, binary: boolean) => {
      last = Date.now();
      if (binary) bytes += d.length;
    });
    ws.resume();
  } else if (mode === 'browser tab') {
    await page.reload();
    await page.waitForSelector('#connection:text("live")');
    await page.click(`#fleet-rows tr[data-agent="${name}"]`);
    await page.waitForSelector(`#terminal-status:text("attached to ${name}")`);
  }
  await sleep(300);
  const cpuBefore = cpuNow(watched);
  const start = Date.now();
  await sb.client.call('POST', `/v1/agents/${name}/input`, { data: 'go\r' });
  const agentMs = await agentTook(sb, name);
  process.stderr.write(`${name}: the agent printed ${MB} MB in ${agentMs} ms\n`);
  let run: Run = { tree: t.label, mode, agentMs, deliveredMs: null, bytes: null, resyncs: null, screens: null, cpu: cpuSince(cpuBefore, cpuNow(watched)) };
  if (mode === 'terminal client') {
    await waitFor('the client to go quiet', async () => (Date.now() - last > 1000 ? true : undefined), 600_000);
    run = { ...run, deliveredMs: last - start, bytes, resyncs: 0, screens: 0, cpu: cpuSince(cpuBefore, cpuNow(watched)) };
    ws!.close();
  } else if (mode === 'browser tab') {
    const read = () =>
      page.evaluate(() => {
        const w = window as unknown as AttachSpy;
        return { __bytes: w.__bytes, __resyncs: w.__resyncs, __screens: w.__screens, __last: w.__last };
      });
    await waitFor('the tab to go quiet', async () => {
      const r = await read();
      return r.__last && Date.now() - r.__last > 1000 ? true : undefined;
    }, 600_000);
    const r = await read();
    run = { ...run, deliveredMs: r.__last - start, bytes: r.__bytes, resyncs: r.__resyncs, screens: r.__screens, cpu: cpuSince(cpuBefore, cpuNow(watched)) };
  }
  await sb.client.call('POST', `/v1/agents/${name}/kill`, { signal: 'KILL' });
  await waitFor(`${name} stopped`, async () => (await sb.client.call<{ agent: { state: string } }>('GET', `/v1/agents/${name}`)).agent.state !== 'running' || undefined);
  await sb.client.call('DELETE', `/v1/agents/${name}`);
  return run;
}

let baselineMain: string | undefined;
if (BASELINE) {
  baselineMain = join(BASELINE, 'dist', 'src', 'cli', 'main.js');
  if (!existsSync(baselineMain)) throw new Error(`--baseline ${BASELINE}: no ${baselineMain} (build that tree first)`);
}
const MODES: Mode[] = ['no client', 'terminal client', 'browser tab'];
const trees: Tree[] = [];
const browser = await launchChromium();
try {
  process.stdout.write(`machine: ${machineLine()}, chromium ${browser.version()}, load ${loadavg().map((l) => l.toFixed(2)).join(' ')}\n`);
  for (const [label, cliMain] of [['this tree', undefined], ...(baselineMain ? [[`baseline (${BASELINE})`, baselineMain]] : [])] as Array<[string, string | undefined]>) {
    const sb = makeSandbox();
    const d = await startDashboardDaemon(sb, [], cliMain);
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    await context.addInitScript(spyOnAttach);
    const page = await context.newPage();
    await page.goto(loginLink(sb));
    trees.push({ label, sb, d, page });
  }
  const runs: Run[] = [];
  // Interleaved, so a change in the machine's load hits every tree and mode alike.
  for (let i = 0; i < RUNS; i++) {
    for (const t of trees) {
      for (const mode of MODES) {
        const r = await oneRun(t, mode, i);
        runs.push(r);
        process.stdout.write(`${JSON.stringify(r)}\n`);
      }
    }
  }
  for (const t of trees) {
    const of = (mode: Mode) => runs.filter((r) => r.tree === t.label && r.mode === mode);
    const floor = median(of('no client').map((r) => r.agentMs));
    process.stdout.write(`\n${t.label}:\n\n| ${MB} MB, median of ${RUNS} | agent's own time | vs no client | until the client's last byte | bytes reached the client | resyncs | screens |\n|---|---|---|---|---|---|---|\n`);
    for (const mode of MODES) {
      const rs = of(mode);
      const agent = median(rs.map((r) => r.agentMs));
      const delivered = rs[0]!.deliveredMs === null ? '-' : `${median(rs.map((r) => r.deliveredMs!)).toFixed(0)} ms`;
      const bytes = rs[0]!.bytes === null ? '-' : `${(median(rs.map((r) => r.bytes!)) / 1e6).toFixed(1)} MB`;
      const resyncs = rs[0]!.resyncs === null ? '-' : String(median(rs.map((r) => r.resyncs!)));
      const screens = rs[0]!.screens === null ? '-' : String(median(rs.map((r) => r.screens!)));
      process.stdout.write(`| ${mode} | ${agent.toFixed(0)} ms | ${(agent / floor).toFixed(2)}× | ${delivered} | ${bytes} | ${resyncs} | ${screens} |\n`);
    }
    process.stdout.write(`\n| CPU ms, median of ${RUNS} | agent | holder | daemon | chromium (all its processes) | bench process (client, playwright) |\n|---|---|---|---|---|---|\n`);
    for (const mode of MODES) {
      const rs = of(mode);
      const m = (k: keyof Run['cpu']) => median(rs.map((r) => r.cpu[k])).toFixed(0);
      process.stdout.write(`| ${mode} | ${m('agent')} | ${m('holder')} | ${m('daemon')} | ${m('chromium')} | ${m('bench')} |\n`);
    }
  }
  process.stdout.write(`load at the end: ${loadavg().map((l) => l.toFixed(2)).join(' ')}\n`);
} finally {
  await browser.close();
  for (const t of trees) await cleanup(t.sb, t.d.daemon);
}
