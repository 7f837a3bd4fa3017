import { test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { realpathSync } from 'node:fs';
import { join } from 'node:path';
import { openAuditLog, type AuditLog } from '../src/audit/index.js';
// The documented hash format, used here the way a forger would.
import { canonicalRow, chainHash } from '../src/audit/hash-chain.js';
import { scratchDir } from './support/scratch-dir.js';

/** A log with rows 1..n written and flushed; `sql` edits the file behind its back. */
function chainOf(n: number): { log: AuditLog; sql: Database.Database } {
  const stateDir = join(realpathSync(scratchDir('celistra-tamper-')), 'state');
  const log = openAuditLog({ stateDir });
  for (let i = 1; i <= n; i++) log.record({ type: i % 2 ? 'spawn' : 'exit', agent: `agent-${i % 3}`, data: { seq: i } });
  assert.equal(log.flush(), true);
  assert.deepEqual(log.verify(), { ok: true, rows: n, headId: n, headHash: log.query({ limit: 1 })[0]!.hash });
  return { log, sql: new Database(log.path) };
}

function firstBad(log: AuditLog): number {
  const r = log.verify();
  assert.equal(r.ok, false, 'verify must detect the tampering');
  return r.ok ? -1 : r.firstBadId;
}

test('an intact chain verifies and reports its row count', () => {
  const { log, sql } = chainOf(20);
  const r = log.verify();
  assert.equal(r.ok, true);
  assert.equal(r.ok && r.rows, 20);
  sql.close();
  log.close();
});

test('editing a row\'s data names that row', () => {
  const { log, sql } = chainOf(10);
  sql.prepare('UPDATE events SET data = ? WHERE id = 4').run('{"seq":40}');
  assert.equal(firstBad(log), 4);
  sql.close();
  log.close();
});

test('editing a row\'s agent, type or time names that row', () => {
  for (const [column, value] of [['agent', 'someone-else'], ['type', 'attach'], ['ts', 0]] as const) {
    const { log, sql } = chainOf(6);
    sql.prepare(`UPDATE events SET ${column} = ? WHERE id = 5`).run(value);
    assert.equal(firstBad(log), 5, `editing ${column}`);
    sql.close();
    log.close();
  }
});

test('editing a row and recomputing its hash names the next row', () => {
  const { log, sql } = chainOf(10);
  sql.prepare('UPDATE events SET data = ?, hash = ? WHERE id = 6').run('{"seq":60}', 'f'.repeat(64));
  assert.equal(firstBad(log), 6);
  const honestLooking = log.query({ limit: 100 }).find((r) => r.id === 6)!;
  // A forger who fixes row 6's own hash still breaks the link to row 7.
  const forged = chainHash(honestLooking.prevHash, canonicalRow({ id: 6, ts: honestLooking.ts, type: honestLooking.type, agent: honestLooking.agent, data: '{"seq":60}' }));
  sql.prepare('UPDATE events SET hash = ? WHERE id = 6').run(forged);
  assert.equal(firstBad(log), 7);
  sql.close();
  log.close();
});

test('deleting a row in the middle names the row after the gap', () => {
  const { log, sql } = chainOf(10);
  sql.prepare('DELETE FROM events WHERE id = 3').run();
  const r = log.verify();
  assert.equal(r.ok, false);
  assert.equal(!r.ok && r.firstBadId, 4);
  assert.match(!r.ok ? r.reason : '', /does not chain from row 2/);
  sql.close();
  log.close();
});

test('deleting the first row names the new oldest row', () => {
  const { log, sql } = chainOf(5);
  sql.prepare('DELETE FROM events WHERE id = 1').run();
  assert.equal(firstBad(log), 2);
  sql.close();
  log.close();
});

test('deleting the newest rows is caught by the recorded chain head', () => {
  const { log, sql } = chainOf(8);
  sql.prepare('DELETE FROM events WHERE id >= 7').run();
  const r = log.verify();
  assert.equal(r.ok, false);
  assert.equal(!r.ok && r.firstBadId, 7);
  assert.match(!r.ok ? r.reason : '', /rows 7\.\.8 are missing/);
  sql.close();
  log.close();
});

test('swapping the contents of two rows names the earlier one', () => {
  const { log, sql } = chainOf(10);
  sql.transaction(() => {
    sql.prepare('UPDATE events SET id = -1 WHERE id = 5').run();
    sql.prepare('UPDATE events SET id = 5 WHERE id = 6').run();
    sql.prepare('UPDATE events SET id = 6 WHERE id = -1').run();
  })();
  assert.equal(firstBad(log), 5);
  sql.close();
  log.close();
});

test('moving a row to the end of the chain names the row that was moved from', () => {
  const { log, sql } = chainOf(10);
  sql.prepare('UPDATE events SET id = 11 WHERE id = 2').run();
  assert.equal(firstBad(log), 3);
  sql.close();
  log.close();
});

test('inserting a forged row names it', () => {
  const { log, sql } = chainOf(6);
  const row3 = sql.prepare('SELECT * FROM events WHERE id = 3').get() as { hash: string };
  sql.prepare('UPDATE events SET id = id + 100 WHERE id > 3').run();
  sql.prepare('INSERT INTO events (id, ts, type, agent, data, prev_hash, hash) VALUES (4, 0, ?, ?, ?, ?, ?)').run('exit', 'agent-1', '{}', row3.hash, 'a'.repeat(64));
  assert.equal(firstBad(log), 4);
  sql.close();
  log.close();
});

test('writing after a tamper keeps reporting the first bad row, not the new ones', () => {
  const { log, sql } = chainOf(5);
  sql.prepare('UPDATE events SET data = ? WHERE id = 2').run('{"seq":0}');
  log.record({ type: 'spawn', agent: 'later' });
  log.flush();
  assert.equal(firstBad(log), 2);
  sql.close();
  log.close();
});
