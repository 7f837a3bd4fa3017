import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { openAuditLog, type AuditLog, type AuditRow } from '../src/audit/index.js';
import { AuditFollower, type AuditReader } from '../src/daemon/events-follower.js';
import { scratchDir } from './support/scratch-dir.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The follower's log, counting every read it makes. */
function counting(log: AuditLog): { reader: AuditReader; reads: () => number } {
  let reads = 0;
  return {
    reads: () => reads,
    reader: {
      query: (q) => (reads++, log.query(q)),
      rowsAfter: (after, limit) => (reads++, log.rowsAfter(after, limit)),
      subscribe: (l) => log.subscribe(l),
    },
  };
}

async function until(what: string, probe: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

test('rows from this process and from another writer reach the sink once each, in id order', async () => {
  const stateDir = scratchDir('celistra-follower-');
  const own = openAuditLog({ stateDir });
  // A second connection: its writes are invisible to `own`'s subscribe(), like another process's.
  const other = openAuditLog({ stateDir });
  try {
    own.record({ type: 'daemon-start', data: {} });
    own.flush();
    const { reader, reads } = counting(own);
    const follower = new AuditFollower(reader, 40);
    await sleep(150);
    assert.equal(reads(), 0, 'nothing is read while no one follows');

    const got: AuditRow[] = [];
    const remove = follower.add((row) => got.push(row));
    const start = follower.position;
    assert.equal(start, 1, 'following starts at the newest row');
    for (let round = 0; round < 30; round++) {
      own.record({ type: 'attach', agent: 'own', data: { round } });
      other.record({ type: 'denial', agent: 'other', data: { round } });
      if (round % 3 === 0) other.flush();
      // Let the writes interleave differently each round: same job, next microtask, a later tick.
      if (round % 2 === 0) await sleep(round % 4 === 0 ? 0 : 15);
    }
    other.flush();
    await until('all 60 rows', () => got.length >= 60);
    await sleep(150);

    const ids = got.map((r) => r.id);
    const expected = own.rowsAfter(start, 10_000).map((r) => r.id);
    assert.equal(expected.length, 60);
    assert.deepEqual(ids, expected, 'every row once, in id order, none extra');
    assert.equal(got.filter((r) => r.agent === 'other').length, 30);
    assert.equal(got.filter((r) => r.agent === 'own').length, 30);

    remove();
    assert.equal(follower.following, false);
    const after = reads();
    other.record({ type: 'denial', agent: 'other', data: { late: true } });
    other.flush();
    await sleep(200);
    assert.equal(reads(), after, 'no polling once the last sink is gone');
    assert.equal(got.length, 60, 'a removed sink gets nothing');
  } finally {
    own.close();
    other.close();
    rmSync(stateDir, { recursive: true, force: true });
  }
});

test('a sink that throws does not cost the others their rows', async () => {
  const stateDir = scratchDir('celistra-follower-');
  const log = openAuditLog({ stateDir });
  try {
    const follower = new AuditFollower(log, 40);
    const got: number[] = [];
    const removeBad = follower.add(() => {
      throw new Error('broken client');
    });
    const removeGood = follower.add((row) => got.push(row.id));
    for (let i = 0; i < 5; i++) log.record({ type: 'kill', agent: 'x', data: { i } });
    await until('five rows', () => got.length === 5);
    assert.deepEqual(got, [1, 2, 3, 4, 5]);
    removeBad();
    removeGood();
  } finally {
    log.close();
    rmSync(stateDir, { recursive: true, force: true });
  }
});

test('a log replaced by a fresh one (recovery restarts ids) stops following and says so', async () => {
  const stateDir = scratchDir('celistra-follower-');
  const log = openAuditLog({ stateDir });
  try {
    let replaced = 0;
    const follower = new AuditFollower(log, 40, () => replaced++);
    const got: number[] = [];
    follower.add((row) => got.push(row.id));
    for (let i = 0; i < 3; i++) log.record({ type: 'kill', agent: 'x', data: { i } });
    await until('three rows', () => got.length === 3);
    // What recovery does to an unreadable file: it is moved aside, and the next write starts afresh.
    for (const suffix of ['', '-wal', '-shm']) {
      if (existsSync(join(stateDir, `audit.db${suffix}`))) renameSync(join(stateDir, `audit.db${suffix}`), join(stateDir, `moved.db${suffix}`));
    }
    log.record({ type: 'kill', agent: 'x', data: { fresh: true } });
    await until('the replacement noticed', () => replaced === 1);
    assert.equal(follower.following, false, 'no polling of positions that mean nothing now');
    assert.deepEqual(got, [1, 2, 3], 'the fresh row 1 is not handed out as if it followed row 3');
    assert.equal(log.rowsAfter(0, 10).length, 1, 'the fresh log holds just the new row');
  } finally {
    log.close();
    rmSync(stateDir, { recursive: true, force: true });
  }
});
