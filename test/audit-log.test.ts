import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { realpathSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openAuditLog, type AuditRow } from '../src/audit/index.js';
import { scratchDir } from './support/scratch-dir.js';

const AUDIT_INDEX = fileURLToPath(new URL('../src/audit/index.js', import.meta.url));

function scratchStateDir(): string {
  return join(realpathSync(scratchDir('celistra-audit-')), 'state');
}

function fakeClock(start = Date.UTC(2026, 0, 1)) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

const tick = () => new Promise((r) => setImmediate(r));

test('recorded events are stored in <stateDir>/audit.db, readable only by the owner', async () => {
  const stateDir = scratchStateDir();
  const log = openAuditLog({ stateDir });
  log.record({ type: 'daemon-start', data: { pid: 1 } });
  await tick();
  assert.equal(log.path, join(stateDir, 'audit.db'));
  assert.equal(statSync(log.path).mode & 0o777, 0o600);
  assert.equal(log.query({}).length, 1);
  log.close();
});

test('query returns events newest first, with their data', async () => {
  const clock = fakeClock();
  const log = openAuditLog({ stateDir: scratchStateDir(), now: clock.now });
  log.record({ type: 'spawn', agent: 'a', data: { command: ['claude'] } });
  clock.advance(1000);
  log.record({ type: 'exit', agent: 'a', data: { code: 0, signal: null, durationMs: 1000 } });
  clock.advance(1000);
  log.record({ type: 'restart', agent: 'a', data: { reason: 'crash', attempt: 1 } });
  await tick();
  const rows = log.query({ agent: 'a' });
  assert.deepEqual(rows.map((r) => r.type), ['restart', 'exit', 'spawn']);
  assert.deepEqual(rows[1]!.data, { code: 0, signal: null, durationMs: 1000 });
  log.close();
});

test('query filters by agent, type, since and limit', async () => {
  const clock = fakeClock();
  const log = openAuditLog({ stateDir: scratchStateDir(), now: clock.now });
  const t0 = clock.now();
  for (let i = 0; i < 10; i++) {
    log.record({ type: i % 2 ? 'exit' : 'spawn', agent: i % 3 ? 'b' : 'a' });
    clock.advance(60_000);
  }
  log.record({ type: 'daemon-stop' });
  await tick();
  assert.deepEqual(log.query({ agent: 'a' }).map((r) => r.agent), ['a', 'a', 'a', 'a']);
  assert.ok(log.query({ type: 'exit' }).every((r) => r.type === 'exit'));
  assert.equal(log.query({ type: 'exit' }).length, 5);
  assert.deepEqual(log.query({ since: t0 + 8 * 60_000 }).map((r) => r.type), ['daemon-stop', 'exit', 'spawn']);
  assert.equal(log.query({ limit: 2 }).length, 2);
  assert.deepEqual(log.query({ agent: 'nobody' }), []);
  log.close();
});

test('a burst of record() calls is written in one transaction at the end of the synchronous job', async () => {
  const log = openAuditLog({ stateDir: scratchStateDir() });
  const committed: AuditRow[] = [];
  log.subscribe((row) => committed.push(row));
  for (let i = 0; i < 100; i++) log.record({ type: 'attach', agent: 'a', data: { client: `c${i}` } });
  assert.equal(committed.length, 0, 'nothing is written while the caller is still running');
  await Promise.resolve();
  assert.equal(committed.length, 100);
  assert.deepEqual(committed.map((r) => r.id), Array.from({ length: 100 }, (_, i) => i + 1));
  log.close();
});

test('events that keep coming right after a write are batched into the next one, a few ms later', async () => {
  const log = openAuditLog({ stateDir: scratchStateDir() });
  const committed: string[] = [];
  log.subscribe((row) => committed.push(String(row.data.client)));
  log.record({ type: 'attach', agent: 'a', data: { client: 'first' } });
  await Promise.resolve();
  assert.deepEqual(committed, ['first'], 'an idle log writes at the end of the synchronous job');
  log.record({ type: 'attach', agent: 'a', data: { client: 'second' } });
  log.record({ type: 'attach', agent: 'a', data: { client: 'third' } });
  await Promise.resolve();
  assert.deepEqual(committed, ['first'], 'a busy log waits for the coalescing window');
  await new Promise((r) => setTimeout(r, 100));
  assert.deepEqual(committed, ['first', 'second', 'third']);
  log.close();
});

test('subscribers receive each committed row, and unsubscribe stops them', async () => {
  const log = openAuditLog({ stateDir: scratchStateDir() });
  const seen: string[] = [];
  const off = log.subscribe((row) => seen.push(`${row.id}:${row.type}`));
  log.record({ type: 'spawn', agent: 'x' });
  await tick();
  off();
  log.record({ type: 'exit', agent: 'x' });
  await tick();
  assert.deepEqual(seen, ['1:spawn']);
  assert.equal(log.query({}).length, 2);
  log.close();
});

test('rowsAfter() lets a reader follow rows written by another process, oldest first', () => {
  const stateDir = scratchStateDir();
  const reader = openAuditLog({ stateDir });
  const writer = openAuditLog({ stateDir });
  for (const client of ['a', 'b', 'c']) writer.record({ type: 'attach', agent: 'x', data: { client } });
  writer.flush();
  const first = reader.rowsAfter(0, 2);
  assert.deepEqual(first.map((r) => r.data.client), ['a', 'b']);
  const rest = reader.rowsAfter(first.at(-1)!.id);
  assert.deepEqual(rest.map((r) => r.data.client), ['c']);
  assert.deepEqual(reader.rowsAfter(rest.at(-1)!.id), []);
  writer.close();
  reader.close();
});

test('record() never throws, even for data that is not JSON (cycles, bigint, functions)', async () => {
  const log = openAuditLog({ stateDir: scratchStateDir() });
  const cyclic: Record<string, unknown> = { name: 'loop' };
  cyclic.self = cyclic;
  assert.doesNotThrow(() => log.record({ type: 'denial', agent: 'a', data: { cyclic, big: 10n, fn: () => 1, when: new Date(0) } }));
  await tick();
  const [row] = log.query({});
  assert.deepEqual(row!.data, { big: '10', cyclic: { name: 'loop', self: '[circular]' }, when: '1970-01-01T00:00:00.000Z' });
  assert.equal(log.verify().ok, true);
  log.close();
});

test('events recorded just before process.exit() are not lost', () => {
  const stateDir = scratchStateDir();
  const script = `
    import { openAuditLog } from ${JSON.stringify(AUDIT_INDEX)};
    const log = openAuditLog({ stateDir: ${JSON.stringify(stateDir)} });
    log.record({ type: 'spawn', agent: 'short', data: { command: ['true'] } });
    log.record({ type: 'exit', agent: 'short', data: { code: 0 } });
    process.exit(3);
  `;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  assert.equal(r.status, 3, r.stderr);
  const log = openAuditLog({ stateDir });
  assert.deepEqual(log.query({ agent: 'short' }).map((row) => row.type), ['exit', 'spawn']);
  log.close();
});

test('an event recorded from a later process \'exit\' handler is still written', () => {
  const stateDir = scratchStateDir();
  const script = `
    import { openAuditLog } from ${JSON.stringify(AUDIT_INDEX)};
    const log = openAuditLog({ stateDir: ${JSON.stringify(stateDir)} });
    process.on('exit', (code) => log.record({ type: 'exit', agent: 'late', data: { code } }));
    log.record({ type: 'spawn', agent: 'late' });
  `;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const log = openAuditLog({ stateDir });
  assert.deepEqual(log.query({ agent: 'late' }).map((row) => row.type), ['exit', 'spawn']);
  log.close();
});

test('record() after close() is ignored without throwing', () => {
  const log = openAuditLog({ stateDir: scratchStateDir() });
  log.close();
  assert.doesNotThrow(() => log.record({ type: 'spawn', agent: 'late' }));
});
