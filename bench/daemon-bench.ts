/**
 * celistrad figures, side by side in one run (docs/benchmarks/daemon.md):
 *   1. 100 MB of agent output: direct node-pty read (the floor), the daemon with 0, 1
 *      and 10 attached WebSocket clients, tmux with one attached client.
 *   2. Keystroke-to-echo latency (p50/p99): direct node-pty, `celistra` attach, tmux.
 *   3. 100 idle agents: spawn time, daemon + holder memory (RSS and PSS), idle CPU.
 * Run: npx tsc -p tsconfig.json && node dist/bench/daemon-bench.js [--mb N] [--runs N] [--agents N]
 *   [--baseline DIR]: also measure the built Celistra tree in DIR (e.g. the last commit,
 *   exported with `git archive HEAD | tar -x -C DIR`, node_modules linked, tsc run there),
 *   interleaved run by run with this tree, so before and after share one run's load.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import * as pty from 'node-pty';
import type WebSocket from 'ws';
import { cleanup, makeSandbox, sleep, startDaemonProcess, trackDaemon, waitFor, type DaemonProcess, type Sandbox } from '../test/daemon-harness.js';
import { machineLine, median, percentile } from './stats.js';

const argv = process.argv.slice(2);
const flag = (name: string, dflt: number) => {
  const i = argv.indexOf(`--${name}`);
  return i === -1 ? dflt : Number(argv[i + 1]);
};
const MB = flag('mb', 100);
const RUNS = flag('runs', 3);
const AGENTS = flag('agents', 100);
const KEYS = flag('keys', 300);
const BASELINE = argv.includes('--baseline') ? argv[argv.indexOf('--baseline') + 1] : undefined;
const BYTES = MB * 1_000_000;
const LINE = 'x'.repeat(79);
/** Prints BYTES of 80-byte lines after a go line, so clients can attach first. */
const FLOOD = `read go; yes '${LINE}' | head -c ${BYTES}`;

/** A daemon from another built tree (the baseline), in its own sandbox. */
async function startBaselineDaemon(dir: string): Promise<{ sb: Sandbox; daemon: DaemonProcess }> {
  const main = join(dir, 'dist', 'src', 'cli', 'main.js');
  if (!existsSync(main)) throw new Error(`--baseline ${dir}: no ${main} (build that tree first)`);
  const sb = makeSandbox();
  const proc = spawn(process.execPath, [main, 'daemon', 'run'], { env: sb.env, stdio: ['ignore', 'ignore', 'pipe'] });
  trackDaemon(sb, proc);
  let err = '';
  proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  const status = await waitFor('the baseline daemon', async () => {
    if (proc.exitCode !== null) throw new Error(`baseline daemon exited with ${proc.exitCode}: ${err}`);
    return sb.client.call<{ pid: number }>('GET', '/v1/status').catch(() => undefined);
  });
  return { sb, daemon: { proc, pid: status.pid, stderr: () => err, exited } };
}

// ---------- throughput ----------

function floorRun(): Promise<number> {
  return new Promise((resolve) => {
    const start = performance.now();
    const term = pty.spawn('sh', ['-c', `yes '${LINE}' | head -c ${BYTES}`], { cols: 80, rows: 24, env: process.env as Record<string, string> });
    let got = 0;
    term.onData((d) => (got += d.length));
    term.onExit(() => resolve(performance.now() - start));
  });
}

async function daemonRun(sb: Sandbox, clients: number, run: number): Promise<{ ms: number; received: number[] }> {
  const name = `flood-${clients}-${run}`;
  await sb.client.call('POST', '/v1/agents', { name, argv: ['sh', '-c', FLOOD], workspace: sb.workspace, backend: 'none', cols: 80, rows: 24 });
  const sockets: WebSocket[] = [];
  const received: number[] = [];
  const closed: Promise<void>[] = [];
  for (let i = 0; i < clients; i++) {
    const ws = await sb.client.attach(name, { readOnly: 1 });
    received.push(0);
    const idx = i;
    let first = true;
    await new Promise<void>((r) => {
      ws.on('message', (d: Buffer, binary: boolean) => {
        if (first) {
          first = false;
          r();
        }
        if (binary) received[idx]! += d.length;
      });
      ws.resume();
    });
    closed.push(new Promise((r) => ws.once('close', () => r())));
    sockets.push(ws);
  }
  const start = performance.now();
  await sb.client.call('POST', `/v1/agents/${name}/input`, { data: 'go\r' });
  if (clients > 0) await Promise.all(closed);
  else await waitFor('exit', async () => (await sb.client.call<{ agent: { state: string } }>('GET', `/v1/agents/${name}`)).agent.state !== 'running' || undefined, 600_000);
  const ms = performance.now() - start;
  await sb.client.call('DELETE', `/v1/agents/${name}`);
  return { ms, received };
}

function tmux(sock: string, ...args: string[]) {
  return spawnSync('tmux', ['-S', sock, ...args], { encoding: 'utf8' });
}

async function tmuxRun(dir: string, run: number): Promise<number> {
  const sock = join(dir, `tmux-${run}.sock`);
  const r = tmux(sock, '-f', '/dev/null', 'new-session', '-d', '-x', '80', '-y', '24', `sh -c "${FLOOD}; tmux -S ${sock} wait-for -S done; sleep 30"`);
  if (r.status !== 0) throw new Error(`tmux: ${r.stderr}`);
  const client = pty.spawn('tmux', ['-S', sock, 'attach'], { cols: 80, rows: 24, env: { ...(process.env as Record<string, string>), TERM: 'xterm-256color' } });
  let seen = 0;
  client.onData((d) => (seen += d.length));
  await waitFor('tmux client drawn', () => seen > 0 || undefined);
  await sleep(200);
  const start = performance.now();
  const done = new Promise<void>((res) => spawn('tmux', ['-S', sock, 'wait-for', 'done']).once('exit', () => res()));
  tmux(sock, 'send-keys', 'go', 'Enter');
  await done;
  const ms = performance.now() - start;
  tmux(sock, 'kill-server');
  client.kill();
  return ms;
}

// ---------- latency ----------

async function echoLatencies(write: (s: string) => void, onData: (cb: (d: string) => void) => void): Promise<number[]> {
  let waiting: { ch: string; resolve: () => void } | undefined;
  onData((d) => {
    if (waiting && d.includes(waiting.ch)) {
      const w = waiting;
      waiting = undefined;
      w.resolve();
    }
  });
  const samples: number[] = [];
  const alphabet = 'abcdefghijklmnopqrstuvwxyz';
  for (let i = 0; i < KEYS; i++) {
    const ch = alphabet[i % alphabet.length]!;
    const t0 = performance.now();
    await new Promise<void>((resolve) => {
      waiting = { ch, resolve };
      write(ch);
    });
    samples.push(performance.now() - t0);
    if (i % 60 === 59) write('\r');
    await sleep(2);
  }
  return samples.slice(10);
}

async function latencyFloor(): Promise<number[]> {
  const term = pty.spawn('cat', [], { cols: 80, rows: 24, env: process.env as Record<string, string> });
  await sleep(200);
  const s = await echoLatencies((c) => term.write(c), (cb) => term.onData(cb));
  term.kill();
  return s;
}

async function latencyDaemon(sb: Sandbox): Promise<number[]> {
  await sb.client.call('POST', '/v1/agents', { name: 'echo', argv: ['cat'], workspace: sb.workspace, backend: 'auto', cols: 80, rows: 24 });
  const ws = await sb.client.attach('echo', { cols: 80, rows: 24 });
  const first = new Promise((r) => ws.once('message', r));
  ws.resume();
  await first;
  const s = await echoLatencies(
    (c) => ws.send(Buffer.from(c), { binary: true }),
    (cb) => ws.on('message', (d: Buffer, binary: boolean) => binary && cb(d.toString('latin1'))),
  );
  ws.close();
  await sb.client.call('POST', '/v1/agents/echo/kill', { signal: 'KILL' });
  return s;
}

async function latencyTmux(dir: string): Promise<number[]> {
  const sock = join(dir, 'tmux-echo.sock');
  tmux(sock, '-f', '/dev/null', 'new-session', '-d', '-x', '80', '-y', '24', 'cat');
  const client = pty.spawn('tmux', ['-S', sock, 'attach'], { cols: 80, rows: 24, env: { ...(process.env as Record<string, string>), TERM: 'xterm-256color' } });
  await sleep(500);
  const s = await echoLatencies((c) => client.write(c), (cb) => client.onData(cb));
  tmux(sock, 'kill-server');
  client.kill();
  return s;
}

// ---------- idle fleet ----------

function pssKb(pid: number): { rss: number; pss: number } {
  const text = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  const field = (n: string) => Number(new RegExp(`^${n}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? 0);
  return { rss: field('Rss'), pss: field('Pss') };
}

function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

async function idleFleet(sb: Sandbox, daemonPid: number) {
  const t0 = performance.now();
  for (let i = 0; i < AGENTS; i++) {
    await sb.client.call('POST', '/v1/agents', { name: `idle-${i}`, argv: ['sleep', '3600'], workspace: sb.workspace, backend: 'auto', cols: 80, rows: 24 });
  }
  const spawnMs = performance.now() - t0;
  // V8 runs a few idle-time GCs in the first seconds after start; measure after them.
  await sleep(20_000);
  const agents = await sb.client.listAgents();
  const holders = agents.filter((a) => a.name.startsWith('idle-')).map((a) => a.holderPid!);
  const daemonMem = pssKb(daemonPid);
  const holderMem = holders.map(pssKb);
  const pids = [daemonPid, ...holders];
  const c0 = pids.map(cpuTicks);
  const windowS = 10;
  await sleep(windowS * 1000);
  const c1 = pids.map(cpuTicks);
  const hz = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;
  const ticks = c1.reduce((n, v, i) => n + v - c0[i]!, 0);
  return {
    spawnMs,
    daemon: daemonMem,
    holdersRss: holderMem.reduce((n, m) => n + m.rss, 0),
    holdersPss: holderMem.reduce((n, m) => n + m.pss, 0),
    perHolderPss: holderMem.reduce((n, m) => n + m.pss, 0) / holderMem.length,
    perHolderRss: holderMem.reduce((n, m) => n + m.rss, 0) / holderMem.length,
    idleCpuPct: (ticks / hz / windowS) * 100,
    backend: agents[0]?.backend,
  };
}

// ---------- report ----------

const fmt = (n: number, d = 0) => n.toFixed(d);

async function main(): Promise<void> {
  const sb = makeSandbox();
  const daemon = await startDaemonProcess(sb);
  let baseline: Awaited<ReturnType<typeof startBaselineDaemon>> | undefined;
  const lines: string[] = [];
  const log = (s: string) => {
    process.stdout.write(`${s}\n`);
    lines.push(s);
  };
  try {
    // Inside the try: a baseline that fails to start must not leave this tree's daemon running.
    if (BASELINE) baseline = await startBaselineDaemon(BASELINE);
    log(`# celistrad benchmarks\n`);
    log(`Machine: ${machineLine()}. Date: ${new Date().toISOString()}. Load average at start: ${loadavg().map((n) => n.toFixed(1)).join(' ')} (other work was running on this machine).`);
    log(`Command: \`npx tsc -p tsconfig.json && node dist/bench/daemon-bench.js --mb ${MB} --runs ${RUNS} --agents ${AGENTS} --keys ${KEYS}${BASELINE ? ` --baseline ${BASELINE}` : ''}\`\n`);

    const floor: number[] = [];
    const d0: number[] = [];
    const d1: number[] = [];
    const d10: number[] = [];
    const tm: number[] = [];
    const b0: number[] = [];
    const b1: number[] = [];
    const b10: number[] = [];
    let recv1 = 0;
    let recv10: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      floor.push(await floorRun());
      if (baseline) {
        b0.push((await daemonRun(baseline.sb, 0, run)).ms);
        b1.push((await daemonRun(baseline.sb, 1, run)).ms);
        b10.push((await daemonRun(baseline.sb, 10, run)).ms);
      }
      d0.push((await daemonRun(sb, 0, run)).ms);
      const one = await daemonRun(sb, 1, run);
      d1.push(one.ms);
      recv1 = one.received[0]!;
      const ten = await daemonRun(sb, 10, run);
      d10.push(ten.ms);
      recv10 = ten.received;
      tm.push(await tmuxRun(sb.root, run));
      process.stdout.write(`run ${run + 1}/${RUNS} done\n`);
    }
    const rate = (ms: number) => BYTES / 1e6 / (ms / 1000);
    const fl = median(floor);
    log(`## Throughput: ${MB} MB of output (80-byte lines), median of ${RUNS} runs\n`);
    log('| path | wall ms | MB/s | vs floor | vs tmux |');
    log('|---|---|---|---|---|');
    const tmuxMs = median(tm);
    const row = (label: string, ms: number) => log(`| ${label} | ${fmt(ms)} | ${fmt(rate(ms), 1)} | ${fmt(fl / ms, 2)}× | ${fmt(tmuxMs / ms, 2)}× |`);
    row('node-pty direct read (floor)', fl);
    if (baseline) {
      row('before (baseline), 0 clients', median(b0));
      row('before (baseline), 1 client', median(b1));
      row('before (baseline), 10 clients', median(b10));
    }
    row('celistrad, 0 clients', median(d0));
    row('celistrad, 1 client', median(d1));
    row('celistrad, 10 clients', median(d10));
    row('tmux, 1 attached client', tmuxMs);
    log('');
    log(`Bytes delivered per client in the last run: 1 client ${fmt(recv1 / 1e6, 1)} MB; 10 clients min ${fmt(Math.min(...recv10) / 1e6, 1)} / max ${fmt(Math.max(...recv10) / 1e6, 1)} MB (of ${fmt((BYTES * 81) / 80 / 1e6, 1)} MB after the PTY's \\n→\\r\\n). A client that falls more than 1 MiB behind skips ahead and is resynced from the screen model, so it may receive less than everything; the agent is never slowed by a client.\n`);

    const lf = await latencyFloor();
    const ld = await latencyDaemon(sb);
    const lb = baseline ? await latencyDaemon(baseline.sb) : undefined;
    const lt = await latencyTmux(sb.root);
    log(`## Keystroke-to-echo latency (${lf.length} keystrokes, cat in the PTY; the tty echoes)\n`);
    log('| path | p50 ms | p99 ms | p99 vs tmux |');
    log('|---|---|---|---|');
    const lrow = (label: string, s: number[]) => log(`| ${label} | ${fmt(median(s), 3)} | ${fmt(percentile(s, 99), 3)} | ${fmt(percentile(s, 99) / percentile(lt, 99), 2)}× |`);
    lrow('node-pty direct (floor)', lf);
    lrow('celistrad attach (WebSocket over unix socket, holder, sandboxed with auto)', ld);
    if (lb) lrow('before (baseline) attach, same path', lb);
    lrow('tmux attach', lt);
    log('');

    const tenVsFloor = fl / median(d10);
    const tenVsTmux = tmuxMs / median(d10);
    const p99 = percentile(ld, 99);
    const idle = await idleFleet(sb, daemon.pid);
    log(`## ${AGENTS} idle agents (\`sleep 3600\`, backend ${idle.backend})\n`);
    log('| figure | value |');
    log('|---|---|');
    log(`| spawn all ${AGENTS} (sequential API calls) | ${fmt(idle.spawnMs)} ms (${fmt(idle.spawnMs / AGENTS, 1)} ms per agent) |`);
    log(`| daemon memory | RSS ${fmt(idle.daemon.rss / 1024, 1)} MiB, PSS ${fmt(idle.daemon.pss / 1024, 1)} MiB |`);
    log(`| holders memory, total | RSS ${fmt(idle.holdersRss / 1024, 1)} MiB, PSS ${fmt(idle.holdersPss / 1024, 1)} MiB |`);
    log(`| per holder | RSS ${fmt(idle.perHolderRss / 1024, 1)} MiB, PSS ${fmt(idle.perHolderPss / 1024, 1)} MiB |`);
    log(`| idle CPU, daemon + all holders, 10 s window after 20 s settling | ${fmt(idle.idleCpuPct, 2)} % of one core |`);
    log('');
    log('PSS divides shared pages (the node binary, shared libraries) among the processes that map them, so it is the fair per-process share; RSS counts them in every process.');
    log('');
    log(`Load average at the end: ${loadavg().map((n) => n.toFixed(1)).join(' ')}.`);
    log('');
    log('## Against the targets of issue 5');
    log('');
    const verdict = (ok: boolean) => (ok ? 'met' : '**not met**');
    const before = (ratio: number) => (baseline ? ` (before: ${fmt(ratio, 2)}×)` : '');
    log(`- 10 clients at least half the floor: ${fmt(tenVsFloor, 2)}× — ${verdict(tenVsFloor >= 0.5)}${before(fl / median(b10))}`);
    log(`- 10 clients no slower than tmux with 1: ${fmt(tenVsTmux, 2)}× — ${verdict(tenVsTmux >= 1)}${before(tmuxMs / median(b10))}`);
    log(`- echo p99 under 5 ms: ${fmt(p99, 2)} ms — ${verdict(p99 < 5)}`);
    log(`- idle CPU near zero: ${fmt(idle.idleCpuPct, 2)} % — ${verdict(idle.idleCpuPct < 1)}`);
    log('');
    log('## How to read these');
    log('');
    log('- Everything ran on one 2-core machine, which also runs the producer (`yes | head`), the holder, the daemon and the clients (all clients live in the benchmark process). Other work on the machine during the run shows up as noise; compare rows of the same run, not runs.');
    log('- The daemon path is PTY → holder (scrollback ring; output batched up to 64 KiB / 2 ms while a stream is under way) → unix socket → daemon → WebSocket per client. The holder\'s @xterm/headless screen model parses asynchronously behind that path (an attach gets its screen at a parsed offset plus the bytes after it), and the agent is paused when the parser is 4 MiB behind. Text that scrolls off the screen before anyone could see it is skipped rather than parsed (src/terminal/screen-skip.ts): these plain 80-byte lines are almost all skipped, so this figure is the best case; output dense with cursor moves is parsed whole, at the parser\'s speed (bench/screen-parse-bench.ts, ~35–50 MB/s on a free core here).');
    if (BASELINE) log(`- "before (baseline)" rows: the same benchmark against the build in ${BASELINE} (the previous commit: \`git archive HEAD | tar -x -C DIR\`, node_modules linked, tsc), with its own daemon, interleaved run by run with this tree's rows so both see the same load. There the screen model parsed every byte of the output.`);
    log('- Throughput rows with clients end when every client has received the close that follows the last byte; the 0-client row ends when the daemon reports the exit.');
    log('- Latency: one keystroke at a time, timed from send to the echoed character arriving at the client; the PTY line discipline echoes. The celistrad agent is sandboxed (backend auto); tmux and the floor are not.');
    log('- Spawn time covers the API call, policy and plan, the sandbox helper, and starting a node holder (the bulk of it).');
  } finally {
    await cleanup(sb, daemon);
    if (baseline) await cleanup(baseline.sb, baseline.daemon);
  }
  const out = new URL('../../docs/benchmarks/daemon.md', import.meta.url).pathname;
  mkdirSync(join(out, '..'), { recursive: true });
  if (!argv.includes('--no-write')) writeFileSync(out, `${lines.join('\n')}\n`);
}

await main();
