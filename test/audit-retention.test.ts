import { test } from 'node:test';
import assert from 'node:assert/strict';
import { realpathSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { openAuditLog, type PruneData } from '../src/audit/index.js';
import { CelistraError } from '../src/policy/errors.js';
import { scratchDir } from './support/scratch-dir.js';

const DAY = 24 * 60 * 60 * 1000;

function scratchStateDir(): string {
  return join(realpathSync(scratchDir('celistra-retention-')), 'state');
}

function fakeClock(start = Date.UTC(2026, 0, 1)) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms), set: (ms: number) => (t = ms) };
}

test('rows older than 30 days are pruned, newer ones kept, and the chain still verifies', () => {
  const clock = fakeClock();
  const log = openAuditLog({ stateDir: scratchStateDir(), now: clock.now });
  for (let day = 0; day < 40; day++) {
    log.record({ type: 'spawn', agent: 'a', data: { day } });
    log.flush();
    clock.advance(DAY);
  }
  // now = day 40: days 0..9 are more than 30 days old. The log has been pruning daily
  // after writes since day 31; prune() takes the last one.
  log.prune();
  const days = log.query({ type: 'spawn', limit: 100 }).map((r) => r.data.day);
  assert.deepEqual(days, Array.from({ length: 30 }, (_, i) => 39 - i));
  const anchors = log.query({ type: 'prune', limit: 100 });
  assert.ok(anchors.length >= 1);
  assert.equal(anchors.reduce((n, a) => n + Number(a.data.count), 0), 10, 'each pruned row is accounted for by an anchor');
  const verified = log.verify();
  assert.equal(verified.ok, true, JSON.stringify(verified));
  log.close();
});

test('pruning removes exactly the rows older than the retention period, and the anchor reports their range', () => {
  const stateDir = scratchStateDir();
  const t0 = Date.UTC(2026, 0, 1);
  // Written by one process at t0 and t0 + 20 days...
  const writer = openAuditLog({ stateDir, now: () => t0 });
  for (let i = 0; i < 7; i++) writer.record({ type: 'exit', agent: 'a', data: { i } });
  writer.close();
  const later = openAuditLog({ stateDir, now: () => t0 + 20 * DAY });
  later.record({ type: 'spawn', agent: 'a' });
  later.close();
  // ...then pruned at t0 + 35 days, with automatic retention already due on open.
  const pruner = openAuditLog({ stateDir, now: () => t0 + 35 * DAY });
  const [anchor] = pruner.query({ type: 'prune' });
  assert.deepEqual(
    { fromId: anchor!.data.fromId, toId: anchor!.data.toId, count: anchor!.data.count },
    { fromId: 1, toId: 7, count: 7 },
  );
  assert.deepEqual(pruner.prune().pruned, 0, 'a second prune finds nothing left to remove');
  assert.deepEqual(pruner.query({}).map((r) => r.type), ['prune', 'spawn']);
  assert.equal(pruner.verify().ok, true);
  pruner.close();
});

test('the prune anchor records the removed range and the hash the remaining chain starts from', () => {
  const clock = fakeClock();
  const log = openAuditLog({ stateDir: scratchStateDir(), now: clock.now });
  for (let i = 0; i < 5; i++) log.record({ type: 'exit', agent: 'a', data: { i } });
  log.flush();
  const lastOld = log.query({ limit: 1 })[0]!;
  clock.advance(31 * DAY);
  log.record({ type: 'spawn', agent: 'a' });
  log.flush();
  log.prune();
  const [anchor] = log.query({ type: 'prune' });
  const data = anchor!.data as unknown as PruneData;
  assert.equal(data.fromId, 1);
  assert.equal(data.toId, 5);
  assert.equal(data.count, 5);
  assert.equal(data.lastPrunedHash, lastOld.hash);
  const oldest = log.query({ limit: 100 }).at(-1)!;
  assert.equal(oldest.id, 6);
  assert.equal(oldest.prevHash, lastOld.hash);
  log.close();
});

test('repeated pruning (anchors pruning older anchors) keeps the chain verifiable, and writing continues', () => {
  const clock = fakeClock();
  const log = openAuditLog({ stateDir: scratchStateDir(), now: clock.now, retentionDays: 3 });
  for (let day = 0; day < 20; day++) {
    log.record({ type: 'spawn', agent: `a${day % 4}`, data: { day } });
    log.record({ type: 'exit', agent: `a${day % 4}`, data: { day } });
    log.flush();
    const result = log.prune();
    assert.ok(result.pruned <= 4 + 1, `day ${day}: pruned ${result.pruned}`);
    const v = log.verify();
    assert.equal(v.ok, true, `day ${day}: ${JSON.stringify(v)}`);
    clock.advance(DAY);
  }
  assert.ok(log.query({ limit: 1000 }).every((r) => r.ts >= clock.now() - 4 * DAY));
  log.close();
});

test('pruning everything leaves only the anchor, which still verifies', () => {
  const clock = fakeClock();
  const log = openAuditLog({ stateDir: scratchStateDir(), now: clock.now });
  for (let i = 0; i < 3; i++) log.record({ type: 'attach', agent: 'a', data: { client: String(i) } });
  log.flush();
  clock.advance(60 * DAY);
  assert.equal(log.prune().pruned, 3);
  assert.deepEqual(log.query({}).map((r) => [r.id, r.type]), [[4, 'prune']]);
  assert.equal(log.verify().ok, true);
  log.record({ type: 'detach', agent: 'a', data: { client: '0' } });
  log.flush();
  assert.equal(log.verify().ok, true);
  log.close();
});

test('nothing is pruned, and no anchor written, when no row is old enough', () => {
  const clock = fakeClock();
  const log = openAuditLog({ stateDir: scratchStateDir(), now: clock.now });
  log.record({ type: 'spawn', agent: 'a' });
  log.flush();
  clock.advance(29 * DAY);
  assert.equal(log.prune().pruned, 0);
  assert.deepEqual(log.query({ type: 'prune' }), []);
  log.close();
});

test('deleting the anchor after a prune is detected', () => {
  const clock = fakeClock();
  const log = openAuditLog({ stateDir: scratchStateDir(), now: clock.now });
  for (let i = 0; i < 4; i++) log.record({ type: 'spawn', agent: 'a' });
  log.flush();
  clock.advance(31 * DAY);
  log.record({ type: 'spawn', agent: 'b' });
  log.flush();
  log.prune();
  const [anchor] = log.query({ type: 'prune' });
  assert.equal(anchor!.id, 6);
  const sql = new Database(log.path);
  sql.prepare('DELETE FROM events WHERE id = ?').run(anchor!.id);
  sql.close();
  const v = log.verify();
  assert.equal(v.ok, false);
  assert.equal(!v.ok && v.firstBadId, 5);
  log.close();
});

test('retention runs automatically on open, at most once a day', () => {
  const stateDir = scratchStateDir();
  const t0 = Date.UTC(2026, 0, 1);
  const hour = 60 * 60 * 1000;
  const at = (ms: number) => () => t0 + ms;
  // Half a day of retention, so a row can be old enough while the daily run is not yet due.
  const retentionDays = 0.5;

  const first = openAuditLog({ stateDir, now: at(0), retentionDays });
  first.record({ type: 'spawn', agent: 'old' });
  first.close();

  const notDue = openAuditLog({ stateDir, now: at(23 * hour), retentionDays });
  assert.deepEqual(notDue.query({}).map((r) => r.type), ['spawn'], '23 h after the last run: not due, the old row stays');
  notDue.close();

  const due = openAuditLog({ stateDir, now: at(25 * hour), retentionDays });
  assert.deepEqual(due.query({}).map((r) => r.type), ['prune'], '25 h after the last run: due, the old row is pruned');
  assert.equal(due.verify().ok, true);
  due.close();
});

test('a retention of zero or negative days is refused instead of emptying the log', () => {
  const stateDir = scratchStateDir();
  const log = openAuditLog({ stateDir });
  log.record({ type: 'spawn', agent: 'kept' });
  log.close();
  for (const retentionDays of [0, -1, Number.NaN]) {
    assert.throws(() => openAuditLog({ stateDir, retentionDays }), (e: unknown) => e instanceof CelistraError && e.code === 'E_USAGE');
  }
  const reader = openAuditLog({ stateDir });
  assert.deepEqual(reader.query({}).map((r) => r.agent), ['kept']);
  reader.close();
});
