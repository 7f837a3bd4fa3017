// Audit log figures: sustained inserts/s through record() (the real write path: canonical
// JSON, redaction, hash chain, BEGIN IMMEDIATE, three indexes), beside a raw SQLite insert
// of the same rows without the chain; then query latency at 1,000,000 rows across 100
// agents, through the API and through the `celistra history` CLI.
// Usage: node dist/bench/audit.js [events=200000] [rows=1000000]
import Database from 'better-sqlite3';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openAuditLog, type AuditEventInput } from '../src/audit/index.js';
import { machineLine, percentile } from './stats.js';

const events = Number(process.argv[2] ?? 200_000);
const totalRows = Number(process.argv[3] ?? 1_000_000);
const AGENTS = 100;
const root = fileURLToPath(new URL('../..', import.meta.url));
// On the real disk, not a tmpfs: /var/tmp is on the root filesystem here.
const scratch = mkdtempSync(join(process.env.BENCH_DIR ?? '/var/tmp', 'celistra-bench-audit-'));

const turn = () => new Promise<void>((r) => setImmediate(r));

function event(i: number): AuditEventInput {
  const agent = `agent-${String(i % AGENTS).padStart(3, '0')}`;
  // Every agent gets every type, as in real use.
  switch (Math.floor(i / AGENTS) % 4) {
    case 0:
      return { type: 'spawn', agent, data: { command: ['claude', '--dangerously-skip-permissions'], workspace: `/home/u/code/proj-${agent}`, branch: `agent/${agent}`, backend: 'landlock', env: ['HOME', 'PATH', 'TMPDIR', 'ANTHROPIC_API_KEY'], policy: { network: 'on', writableRoots: [`/home/u/code/proj-${agent}`] } } };
    case 1:
      return { type: 'attach', agent, data: { client: `ws-${i}` } };
    case 2:
      return { type: 'exit', agent, data: { code: 0, signal: null, durationMs: i } };
    default:
      return { type: 'restart', agent, data: { reason: 'exit 1', attempt: 1, delayMs: 500 } };
  }
}

interface Rate {
  /** Events per wall-clock second. */
  wall: number;
  /** Events per second of this process's CPU (user + system): less sensitive to other load on the machine. */
  cpu: number;
}

function measure(n: number, body: () => void): Rate;
function measure(n: number, body: () => Promise<void>): Promise<Rate>;
function measure(n: number, body: () => void | Promise<void>): Rate | Promise<Rate> {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const done = (): Rate => {
    const c = process.cpuUsage(c0);
    return { wall: n / ((performance.now() - t0) / 1000), cpu: n / ((c.user + c.system) / 1e6) };
  };
  const r = body();
  return r instanceof Promise ? r.then(done) : done();
}

/** record() in bursts of `burst` per event-loop turn, the final flush included. */
async function recordRate(dir: string, n: number, burst: number): Promise<Rate> {
  const log = openAuditLog({ stateDir: dir });
  const rate = await measure(n, async () => {
    for (let i = 0; i < n; i++) {
      log.record(event(i));
      if (i % burst === burst - 1) await turn();
    }
    if (!log.flush()) throw new Error('flush failed');
  });
  const v = log.verify();
  if (!v.ok || v.rows !== n) throw new Error(`chain does not verify: ${JSON.stringify(v)}`);
  log.close();
  return rate;
}

/** The floor: the same rows through a prepared INSERT in batches, no JSON/hash/chain work. */
function rawRate(dir: string, n: number, burst: number): Rate {
  mkdirSync(dir, { recursive: true });
  const db = new Database(join(dir, 'raw.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('wal_autocheckpoint = 10000');
  db.exec('CREATE TABLE events (id INTEGER PRIMARY KEY, ts INTEGER, type TEXT, agent TEXT, data TEXT, prev_hash TEXT, hash TEXT); CREATE INDEX a ON events(agent, ts); CREATE INDEX t ON events(type, ts); CREATE INDEX s ON events(ts);');
  const ins = db.prepare('INSERT INTO events (ts, type, agent, data, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?)');
  const fake = 'f'.repeat(64);
  const batch = db.transaction((from: number, to: number) => {
    for (let i = from; i < to; i++) {
      const e = event(i);
      ins.run(Date.now(), e.type, e.agent ?? null, JSON.stringify(e.data), fake, fake);
    }
  });
  const rate = measure(n, () => {
    for (let i = 0; i < n; i += burst) batch.immediate(i, Math.min(n, i + burst));
  });
  db.close();
  return rate;
}

function timeMs(fn: () => unknown): number {
  const t0 = performance.now();
  fn();
  return performance.now() - t0;
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const ms = (n: number) => n.toFixed(2);

const out: string[] = [];
const say = (line: string) => {
  out.push(line);
  process.stdout.write(`${line}\n`);
};

say(`machine: ${machineLine()}; load average at start ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
say(`command: node dist/bench/audit.js ${events} ${totalRows}`);
say('');
say(`## Inserts (${fmt(events)} events each, sustained; the final flush included)`);
say('');
say('| write path | events/s (wall) | ratio | events per CPU-second | ratio |');
say('|---|---:|---:|---:|---:|');
const raw = rawRate(join(scratch, 'raw'), events, 100);
const rows: [string, Rate][] = [
  ['raw better-sqlite3 INSERT, 100 per transaction (no chain)', raw],
  ['raw better-sqlite3 INSERT, 1000 per transaction (no chain)', rawRate(join(scratch, 'raw1000'), events, 1000)],
  ['record(), bursts of 100 per event-loop turn', await recordRate(join(scratch, 'b100'), events, 100)],
  ['record(), bursts of 10 per event-loop turn', await recordRate(join(scratch, 'b10'), events, 10)],
  ['record(), 1 per event-loop turn', await recordRate(join(scratch, 'b1'), Math.min(events, 50_000), 1)],
];
for (const [name, rate] of rows) say(`| ${name} | ${fmt(rate.wall)} | ${(rate.wall / raw.wall).toFixed(2)}× | ${fmt(rate.cpu)} | ${(rate.cpu / raw.cpu).toFixed(2)}× |`);
say('');
say('Ratios are against the first row (raw INSERT, 100 per transaction).');

say('');
say(`## Queries at ${fmt(totalRows)} rows, ${AGENTS} agents`);
const bigState = join(scratch, 'big');
const fill0 = performance.now();
const fillRate = await recordRate(bigState, totalRows, 1000);
say('');
say(`filled through record() in bursts of 1000: ${fmt(fillRate.wall)} events/s wall, ${fmt(fillRate.cpu)} per CPU-second (${((performance.now() - fill0) / 1000).toFixed(1)} s including verify); database ${(statSync(join(bigState, 'audit.db')).size / 2 ** 20).toFixed(0)} MiB`);
const log = openAuditLog({ stateDir: bigState });
const samples = 500;
const agentAt = (i: number) => `agent-${String((i * 37) % AGENTS).padStart(3, '0')}`;
const cases: [string, (i: number) => unknown][] = [
  ['query({ agent }) (default limit 100)', (i) => log.query({ agent: agentAt(i) })],
  ['query({ agent, limit: 50 }) (= `history NAME`)', (i) => log.query({ agent: agentAt(i), limit: 50 })],
  ['query({ agent, since: 1 h ago, limit: 50 })', (i) => log.query({ agent: agentAt(i), since: Date.now() - 3_600_000, limit: 50 })],
  ['query({ agent, type: "exit", limit: 50 })', (i) => log.query({ agent: agentAt(i), type: 'exit', limit: 50 })],
  ['query({ limit: 50 }) (all agents)', () => log.query({ limit: 50 })],
];
say('');
say(`| query (${samples} samples, warm) | p50 ms | p99 ms |`);
say('|---|---:|---:|');
for (const [name, fn] of cases) {
  for (let i = 0; i < 20; i++) fn(i);
  const t = Array.from({ length: samples }, (_, i) => timeMs(() => fn(i)));
  say(`| ${name} | ${ms(percentile(t, 50))} | ${ms(percentile(t, 99))} |`);
}
const verifyMs = timeMs(() => {
  const v = log.verify();
  if (!v.ok) throw new Error('verify failed');
});
log.close();

const env = { ...process.env, XDG_STATE_HOME: scratch, HOME: scratch };
// The CLI reads <XDG_STATE_HOME>/celistra/audit.db: point it at the filled database.
rmSync(join(scratch, 'celistra'), { recursive: true, force: true });
spawnSync('ln', ['-s', bigState, join(scratch, 'celistra')]);
const cli = (args: string[]) => timeMs(() => {
  const r = spawnSync(process.execPath, [join(root, 'bin', 'celistra.js'), ...args], { env, stdio: 'ignore' });
  if (r.status !== 0) throw new Error(`celistra ${args.join(' ')} exited ${r.status}`);
});
const floor = Array.from({ length: 15 }, () => timeMs(() => spawnSync(process.execPath, ['-e', '0'])));
const hist = Array.from({ length: 15 }, (_, i) => cli(['history', agentAt(i)]));
say('');
say('| whole process (15 runs) | p50 ms | p99 ms |');
say('|---|---:|---:|');
say(`| node -e 0 (Node startup floor) | ${ms(percentile(floor, 50))} | ${ms(percentile(floor, 99))} |`);
say(`| celistra history NAME | ${ms(percentile(hist, 50))} | ${ms(percentile(hist, 99))} |`);
say('');
say(`verify() over ${fmt(totalRows)} rows: ${(verifyMs / 1000).toFixed(2)} s`);
say(`load average at end ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);

rmSync(scratch, { recursive: true, force: true });
