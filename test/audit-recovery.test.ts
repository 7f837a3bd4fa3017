import { test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, renameSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openAuditLog, type AuditLog } from '../src/audit/index.js';
import { CelistraError } from '../src/policy/errors.js';
import { scratchDir } from './support/scratch-dir.js';

function scratchStateDir(): string {
  const dir = join(realpathSync(scratchDir('celistra-recovery-')), 'state');
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** A real log with enough rows to span many pages, closed (its WAL checkpointed away). */
function populatedLog(stateDir: string, rows = 3000): string {
  const log = openAuditLog({ stateDir });
  for (let i = 0; i < rows; i++) log.record({ type: 'spawn', agent: `agent-${i % 50}`, data: { command: ['claude', '--task', `task number ${i}`] } });
  assert.equal(log.flush(), true);
  const path = log.path;
  log.close();
  assert.equal(existsSync(`${path}-wal`), false);
  return path;
}

async function eventually(check: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) assert.fail('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

function movedAsideFiles(stateDir: string): string[] {
  return readdirSync(stateDir).filter((n) => /^audit\.db\.corrupt-\d{4}-\d{2}-\d{2}T[\d-]+Z$/.test(n));
}

test('a truncated database is moved aside, not deleted, and a fresh log starts with a recovery event', () => {
  const stateDir = scratchStateDir();
  const path = populatedLog(stateDir);
  truncateSync(path, Math.floor(statSync(path).size / 2));
  const damaged = readFileSync(path);

  const log = openAuditLog({ stateDir });
  const moved = movedAsideFiles(stateDir);
  assert.equal(moved.length, 1);
  assert.deepEqual(readFileSync(join(stateDir, moved[0]!)), damaged, 'the damaged file is kept byte for byte');

  log.record({ type: 'spawn', agent: 'after' });
  log.flush();
  const rows = log.query({ limit: 10 }).reverse();
  assert.equal(rows[0]!.id, 1);
  assert.equal(rows[0]!.type, 'recovery');
  assert.equal(rows[0]!.data.movedTo, join(stateDir, moved[0]!));
  assert.match(String(rows[0]!.data.reason), /SQLITE_CORRUPT/);
  assert.deepEqual(rows.map((r) => r.type), ['recovery', 'spawn']);
  assert.equal(log.verify().ok, true);
  log.close();
});

test('a file that is not a database at all is moved aside the same way', () => {
  const stateDir = scratchStateDir();
  const garbage = Buffer.from('this is not sqlite\n'.repeat(300));
  writeFileSync(join(stateDir, 'audit.db'), garbage);
  const log = openAuditLog({ stateDir });
  const moved = movedAsideFiles(stateDir);
  assert.equal(moved.length, 1);
  assert.deepEqual(readFileSync(join(stateDir, moved[0]!)), garbage);
  const [first] = log.query({});
  assert.equal(first!.type, 'recovery');
  assert.match(String(first!.data.reason), /SQLITE_NOTADB/);
  log.close();
});

test('the damaged file\'s WAL moves with it, so it is never replayed into the fresh log', () => {
  const stateDir = scratchStateDir();
  const path = join(stateDir, 'audit.db');
  writeFileSync(path, Buffer.alloc(8192, 0x42));
  writeFileSync(`${path}-wal`, Buffer.alloc(4096, 0x43));
  const log = openAuditLog({ stateDir });
  const [moved] = movedAsideFiles(stateDir);
  assert.ok(existsSync(join(stateDir, `${moved}-wal`)));
  assert.deepEqual(readFileSync(join(stateDir, `${moved}-wal`)), Buffer.alloc(4096, 0x43));
  assert.deepEqual(log.query({}).map((r) => r.type), ['recovery']);
  log.close();
});

function holdWriteLock(path: string): Database.Database {
  const other = new Database(path);
  other.exec('BEGIN EXCLUSIVE');
  return other;
}

test('a locked database does not make record() throw; the events arrive once the lock is released', async () => {
  const stateDir = scratchStateDir();
  const log = openAuditLog({ stateDir });
  log.record({ type: 'daemon-start' });
  log.flush();
  const other = holdWriteLock(log.path);
  for (let i = 0; i < 20; i++) assert.doesNotThrow(() => log.record({ type: 'attach', agent: 'a', data: { client: `c${i}` } }));
  await new Promise((r) => setTimeout(r, 200));
  assert.equal((other.prepare('SELECT COUNT(*) AS n FROM events').get() as { n: number }).n, 1, 'nothing was written while locked');
  other.exec('COMMIT');
  other.close();
  await eventually(() => log.query({ agent: 'a', limit: 100 }).length === 20);
  assert.deepEqual(log.query({ agent: 'a', limit: 100 }).reverse().map((r) => r.data.client), Array.from({ length: 20 }, (_, i) => `c${i}`));
  assert.deepEqual(log.query({ type: 'loss' }), [], 'nothing was lost');
  assert.equal(log.verify().ok, true);
  log.close();
});

test('a database locked before it is opened does not make openAuditLog() or record() throw', async () => {
  const stateDir = scratchStateDir();
  const path = join(stateDir, 'audit.db');
  // A rollback-journal database under an exclusive lock cannot even be read.
  const other = new Database(path);
  other.exec('CREATE TABLE placeholder (x)');
  other.exec('BEGIN EXCLUSIVE');
  other.exec('INSERT INTO placeholder VALUES (1)');
  let log: AuditLog | undefined;
  assert.doesNotThrow(() => {
    log = openAuditLog({ stateDir });
    log.record({ type: 'spawn', agent: 'waiting' });
  });
  await new Promise((r) => setTimeout(r, 100));
  other.exec('COMMIT');
  other.close();
  await eventually(() => {
    try {
      return log!.query({ agent: 'waiting' }).length === 1;
    } catch {
      return false;
    }
  });
  assert.deepEqual(movedAsideFiles(stateDir), [], 'a locked database is not mistaken for a damaged one');
  log!.close();
});

test('events beyond the in-memory buffer are counted and a loss event records how many', async () => {
  const stateDir = scratchStateDir();
  const log = openAuditLog({ stateDir, maxBuffered: 5 });
  log.flush();
  const other = holdWriteLock(log.path);
  for (let i = 0; i < 8; i++) log.record({ type: 'exit', agent: 'busy', data: { i } });
  await new Promise((r) => setTimeout(r, 100));
  other.exec('COMMIT');
  other.close();
  await eventually(() => log.query({ type: 'loss' }).length === 1);
  const rows = log.query({ limit: 100 }).reverse();
  assert.deepEqual(rows.map((r) => (r.type === 'exit' ? r.data.i : r.type)), [0, 1, 2, 3, 4, 'loss']);
  const loss = rows.at(-1)!.data;
  assert.equal(loss.dropped, 3);
  assert.match(String(loss.reason), /SQLITE_BUSY/);
  assert.equal(log.verify().ok, true);
  log.close();
});

test('a writer still holding a database that another process moved aside follows the fresh file', () => {
  const stateDir = scratchStateDir();
  const longRunning = openAuditLog({ stateDir });
  longRunning.record({ type: 'daemon-start' });
  longRunning.flush();
  // What another process's recovery does: move the files aside, start a fresh log.
  const path = join(stateDir, 'audit.db');
  for (const suffix of ['', '-wal', '-shm']) {
    if (existsSync(path + suffix)) renameSync(path + suffix, `${path}.corrupt-2026-01-01T00-00-00-000Z${suffix}`);
  }
  const recovered = openAuditLog({ stateDir });
  recovered.record({ type: 'spawn', agent: 'fresh' });
  recovered.flush();

  longRunning.record({ type: 'spawn', agent: 'long-running' });
  longRunning.flush();
  assert.deepEqual(recovered.query({}).map((r) => r.agent), ['long-running', 'fresh']);
  assert.equal(recovered.verify().ok, true);
  longRunning.close();
  recovered.close();
  const moved = new Database(`${path}.corrupt-2026-01-01T00-00-00-000Z`, { readonly: true });
  assert.deepEqual(moved.prepare('SELECT type FROM events').all(), [{ type: 'daemon-start' }], 'the moved file got nothing new');
  moved.close();
});

test('a database from a newer Celistra is left untouched: record() does not throw, reads say to upgrade', async () => {
  const stateDir = scratchStateDir();
  const path = join(stateDir, 'audit.db');
  const future = new Database(path);
  future.exec('CREATE TABLE future_events (x)');
  future.pragma('user_version = 99');
  future.close();
  const before = readFileSync(path);
  const log = openAuditLog({ stateDir });
  assert.doesNotThrow(() => log.record({ type: 'spawn', agent: 'old-celistra' }));
  await new Promise((r) => setTimeout(r, 50));
  assert.throws(() => log.query({}), (e: unknown) => e instanceof CelistraError && e.code === 'E_AUDIT' && /newer/.test(e.message));
  log.close();
  assert.deepEqual(readFileSync(path), before);
  assert.deepEqual(movedAsideFiles(stateDir), []);
});
