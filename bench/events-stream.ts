// Event stream figures (WS /v1/events/stream, docs/api.md), against a real daemon in a
// throwaway XDG environment:
// 1. the daemon's CPU with the log idle and 0, 1, 10, then 0 stream clients connected
//    (the poll timer exists only while someone listens; the daemon's other work, such as
//    the denial collector when kernel audit is on, is in every row);
// 2. delivery latency (row's ts → client receipt) for the daemon's own rows (attach /
//    detach) beside rows another process writes (found by the 300 ms poll);
// 3. a burst of rows from another process: how fast they are written, and how fast they
//    all reach one client.
// Usage: node dist/bench/events-stream.js [windowSeconds=10] [latencySamples=100] [burst=20000]
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import type WebSocket from 'ws';
import { openAuditLog, type AuditRow } from '../src/audit/index.js';
import { connectEventStream } from '../src/daemon/events-client.js';
import { cleanup, makeSandbox, sleep, spawnAgent, startDaemonProcess, waitFor } from '../test/daemon-harness.js';
import { machineLine, percentile } from './stats.js';

const windowS = Number(process.argv[2] ?? 10);
const samples = Number(process.argv[3] ?? 100);
const burst = Number(process.argv[4] ?? 20_000);
const TICKS_PER_S = 100; // getconf CLK_TCK on Linux

function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  // utime and stime are fields 14 and 15 of /proc/PID/stat; 12 and 13 after "pid (comm) ".
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_S;
}

interface Listener {
  ws: WebSocket;
  rows: Array<{ row: AuditRow; at: number }>;
  /** Set when the daemon closed it. */
  closed?: string;
}

async function listen(socketPath: string): Promise<Listener> {
  const ws = await connectEventStream(socketPath, {});
  const listener: Listener = { ws, rows: [] };
  ws.on('message', (d: Buffer) => {
    const msg = JSON.parse(d.toString()) as { event?: AuditRow };
    if (msg.event) listener.rows.push({ row: msg.event, at: Date.now() });
  });
  ws.on('close', (code, reason) => (listener.closed = `${code} ${reason.toString()}`));
  ws.resume();
  return listener;
}

const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

const sb = makeSandbox();
const daemon = await startDaemonProcess(sb);
const log = openAuditLog({ stateDir: sb.paths.stateDir });
const out: string[] = [];
try {
  out.push(`machine: ${machineLine()}; load average at start ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);

  // 1. Idle CPU.
  const cpuRows: Array<[string, number]> = [];
  await sleep(3000); // past start-up work (recovery, the first prune check, JIT)
  // 0 again at the end: the cost goes away with the last client.
  for (const clients of [0, 1, 10, 0]) {
    const listeners = await Promise.all(Array.from({ length: clients }, () => listen(sb.client.socketPath)));
    await sleep(500);
    const before = cpuMs(daemon.pid);
    await sleep(windowS * 1000);
    cpuRows.push([`${clients} client${clients === 1 ? '' : 's'}`, (cpuMs(daemon.pid) - before) / windowS]);
    for (const l of listeners) l.ws.close();
    await sleep(300);
  }
  const base = Math.max(cpuRows[1]![1], 0.1);
  out.push('', `### Daemon CPU, log idle, ${windowS} s per row (1/${TICKS_PER_S} s resolution)`, '', '| stream clients | CPU ms per second | % of one core | vs 1 client |', '|---|---:|---:|---:|');
  for (const [what, ms] of cpuRows) out.push(`| ${what} | ${fmt(ms, 1)} | ${fmt(ms / 10, 2)} % | ${fmt(ms / base, 2)}× |`);

  // 2. Latency: the daemon's own rows (attach/detach of a running agent) and another process's.
  const l = await listen(sb.client.socketPath);
  await spawnAgent(sb, 'bench', ['sleep', '600'], { backend: 'none' });
  const own: number[] = [];
  for (let i = 0; i < samples; i++) {
    const ws = await sb.client.attach('bench', { replay: 'logs' });
    ws.resume();
    ws.close();
    await waitFor('detach', () => l.rows.filter((r) => r.row.type === 'detach').length > i || undefined);
    await sleep(20);
  }
  for (const r of l.rows) if (r.row.type === 'attach' || r.row.type === 'detach') own.push(r.at - r.row.ts);
  const seen = l.rows.length;
  const other: number[] = [];
  for (let i = 0; i < samples; i++) {
    log.record({ type: 'denial', agent: 'elsewhere', data: { i } });
    log.flush();
    await waitFor('the row', () => l.rows.length > seen + i || undefined);
    other.push(l.rows.at(-1)!.at - l.rows.at(-1)!.row.ts);
    // Receipt happens at a poll tick: wait a uniformly random part of the period so the
    // next write lands anywhere in it, not just after a tick.
    await sleep(Math.random() * 300);
  }
  out.push('', `### Delivery latency, row's ts → client receipt (ms, ${samples} rows each)`, '', '| writer | p50 | p95 | max | p50 vs own |', '|---|---:|---:|---:|---:|');
  const ownP50 = Math.max(percentile(own, 50), 1);
  for (const [what, s] of [[`the daemon itself (attach/detach, ${own.length} rows)`, own], ['another process (poll every 300 ms)', other]] as const) {
    out.push(`| ${what} | ${percentile(s, 50)} | ${percentile(s, 95)} | ${Math.max(...s)} | ${fmt(percentile(s, 50) / ownP50, 1)}× |`);
  }

  // 3. A burst from another process.
  const start = l.rows.length;
  const t0 = performance.now();
  for (let i = 0; i < burst; i++) {
    log.record({ type: 'denial', agent: 'burst', data: { i, operation: 'write', path: `/home/u/.ssh/id_${i}` } });
    if (i % 1000 === 999) await new Promise((r) => setImmediate(r));
  }
  log.flush();
  const written = performance.now() - t0;
  await waitFor('the burst', () => {
    if (l.closed) throw new Error(`the daemon closed the stream during the burst: ${l.closed}`);
    return l.rows.length >= start + burst || undefined;
  }, 120_000);
  const delivered = performance.now() - t0;
  const got = l.rows.slice(start).map((r) => r.row.id);
  const inOrder = got.every((id, i) => i === 0 || id === got[i - 1]! + 1);
  out.push('', `### A burst of ${fmt(burst)} rows from another process, one client`, '', '| stage | ms | rows/s | ratio |', '|---|---:|---:|---:|');
  out.push(`| written (record() + flush) | ${fmt(written)} | ${fmt(burst / (written / 1000))} | 1.00× |`);
  out.push(`| all delivered to the client | ${fmt(delivered)} | ${fmt(burst / (delivered / 1000))} | ${fmt(written / delivered, 2)}× |`);
  out.push('', `every row once, in id order: ${inOrder && got.length === burst ? 'yes' : `NO (${got.length} rows)`}; load average at end ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  l.ws.close();
} finally {
  log.close();
  await cleanup(sb, daemon);
}
process.stdout.write(`${out.join('\n')}\n`);
