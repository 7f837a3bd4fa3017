import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openAuditLog } from '../src/audit/index.js';
import { AuditSpool, spoolDir } from '../src/audit/spool.js';
import { RunAudit, SPOOL_INTAKE_THRESHOLD } from '../src/run/audit.js';
import type { CelistraPaths } from '../src/policy/paths.js';
import type { LaunchPlan } from '../src/backends/backend.js';
import type { Policy } from '../src/policy/policy.js';
import { scratchDir } from './support/scratch-dir.js';

function scratchStateDir(): string {
  return join(realpathSync(scratchDir('celistra-spool-')), 'state');
}

/** A pid that certainly belongs to no running process: a child that has exited and been reaped. */
function deadPid(): number {
  const r = spawnSync('true');
  return r.pid!;
}

function spoolFiles(stateDir: string): string[] {
  try {
    return readdirSync(spoolDir(stateDir)).sort();
  } catch {
    return [];
  }
}

test('spooled events reach the hash chain with their own times, in order, and the spool empties', () => {
  const stateDir = scratchStateDir();
  let t = Date.UTC(2026, 5, 1);
  const spool = AuditSpool.create(stateDir, () => t);
  spool.record({ type: 'spawn', agent: 'w', data: { command: ['true'], env: { SECRET_TOKEN: 'hunter2' } } });
  t += 2500;
  spool.record({ type: 'exit', agent: 'w', data: { code: 0, signal: null, durationMs: 2500 } });
  spool.finish();
  assert.equal(statSync(join(spoolDir(stateDir), spoolFiles(stateDir)[0]!)).mode & 0o777, 0o600);

  const log = openAuditLog({ stateDir });
  const rows = log.query({ agent: 'w' });
  assert.deepEqual(rows.map((r) => [r.type, r.ts]), [['exit', Date.UTC(2026, 5, 1) + 2500], ['spawn', Date.UTC(2026, 5, 1)]]);
  // Redacted on the way into the spool: the value never touches the disk.
  assert.deepEqual(rows[1]!.data.env, ['SECRET_TOKEN']);
  assert.deepEqual(spoolFiles(stateDir), []);
  assert.equal(log.verify().ok, true);
  log.close();
});

test('a writer still running is taken line by line, never twice', () => {
  const stateDir = scratchStateDir();
  const spool = AuditSpool.create(stateDir);
  spool.record({ type: 'spawn', agent: 'long' });
  const log = openAuditLog({ stateDir });
  assert.equal(log.query({}).length, 1);
  // Still open and its writer (this process) alive: the file stays for the rest.
  assert.equal(spoolFiles(stateDir).length, 1);
  assert.equal(log.query({}).length, 1);
  spool.record({ type: 'kill', agent: 'long', data: { signal: 'SIGTERM', by: 'user' } });
  assert.equal(log.query({}).length, 2);
  spool.record({ type: 'exit', agent: 'long', data: { code: null, signal: 'SIGTERM', durationMs: 1 } });
  spool.finish();
  const second = openAuditLog({ stateDir });
  assert.deepEqual(second.query({}).map((r) => r.type), ['exit', 'kill', 'spawn']);
  assert.deepEqual(log.query({}).map((r) => r.type), ['exit', 'kill', 'spawn']);
  assert.deepEqual(spoolFiles(stateDir), []);
  assert.equal(second.verify().ok, true);
  second.close();
  log.close();
});

test('a dead writer\'s file is taken whole; bad and torn lines become one loss event, not rows', () => {
  const stateDir = scratchStateDir();
  mkdirSync(spoolDir(stateDir), { recursive: true, mode: 0o700 });
  const good = { ts: Date.UTC(2026, 5, 2), type: 'spawn', agent: 'crashed', data: '{"command":["x"]}' };
  const unknownType = { ...good, type: 'root-granted' };
  const nonCanonical = { ...good, type: 'exit', data: '{ "signal": null,  "code": 1 }' };
  const name = `${String(Date.now()).padStart(15, '0')}-${deadPid()}-0badc0de.open`;
  writeFileSync(join(spoolDir(stateDir), name), [JSON.stringify(good), 'not json', JSON.stringify(unknownType), JSON.stringify(nonCanonical), '{"ts":1,"ty'].join('\n'), { mode: 0o600 });

  const log = openAuditLog({ stateDir });
  const rows = log.query({ limit: 10 });
  const byType = new Map(rows.map((r) => [r.type, r]));
  assert.deepEqual([...byType.keys()].sort(), ['exit', 'loss', 'spawn']);
  // A hand-written line is stored in canonical form, as the chain requires.
  assert.deepEqual(byType.get('exit')!.data, { code: 1, signal: null });
  assert.equal(byType.get('loss')!.data.dropped, 3);
  assert.match(String(byType.get('loss')!.data.reason), /audit spool file/);
  assert.deepEqual(spoolFiles(stateDir), []);
  assert.equal(log.verify().ok, true);
  log.close();
});

test('two readers taking the spool at once chain each line exactly once', () => {
  const stateDir = scratchStateDir();
  const a = openAuditLog({ stateDir });
  const b = openAuditLog({ stateDir });
  const writers = [AuditSpool.create(stateDir), AuditSpool.create(stateDir)];
  let written = 0;
  for (let i = 0; i < 20; i++) {
    writers[i % 2]!.record({ type: 'spawn', agent: `n${i}` });
    written++;
    (i % 3 === 0 ? a : b).query({ limit: 1 });
  }
  for (const w of writers) w.finish();
  assert.equal(a.query({ limit: 1000 }).length, written);
  assert.equal(b.query({ limit: 1000 }).length, written);
  assert.equal(new Set(a.query({ limit: 1000 }).map((r) => r.agent)).size, written);
  assert.deepEqual(spoolFiles(stateDir), []);
  a.close();
  b.close();
});

function fakeRun(stateDir: string): { paths: CelistraPaths; plan: LaunchPlan; policy: Policy } {
  const paths = { home: '/nonexistent', stateDir, configDir: join(stateDir, 'config'), runtimeDir: join(stateDir, 'rt') };
  const plan = { backend: 'landlock', file: 'true', args: [], env: { PATH: '/usr/bin' }, cwd: '/', notes: [] } as unknown as LaunchPlan;
  const policy = { version: 1, workspace: '/w', writableRoots: [], readOnlyPaths: [], denyRead: [], tmpDir: '/t', network: 'on', env: {} } as unknown as Policy;
  return { paths, plan, policy };
}

test('a run that cannot write the spool records through the database instead', async () => {
  const stateDir = scratchStateDir();
  mkdirSync(stateDir, { recursive: true });
  // A file where the spool directory should be: every spool write fails, as on a broken disk.
  writeFileSync(spoolDir(stateDir), 'in the way');
  const { paths, plan, policy } = fakeRun(stateDir);
  const audit = new RunAudit(paths, 'fallback');
  audit.spawned(plan, policy, ['true'], 4242);
  await audit.exited({ status: 0, code: 0, signal: null });
  const log = openAuditLog({ stateDir });
  assert.deepEqual(log.query({ agent: 'fallback' }).map((r) => r.type), ['exit', 'spawn']);
  log.close();
});

test('a run chains the spool itself once enough finished files wait, so it never grows unbounded', async () => {
  const stateDir = scratchStateDir();
  const { paths, plan, policy } = fakeRun(stateDir);
  for (let i = 0; i < SPOOL_INTAKE_THRESHOLD - 1; i++) {
    const audit = new RunAudit(paths, `r${i}`);
    audit.spawned(plan, policy, ['true'], 1000 + i);
    await audit.exited({ status: 0, code: 0, signal: null });
  }
  assert.equal(spoolFiles(stateDir).length, SPOOL_INTAKE_THRESHOLD - 1);
  const last = new RunAudit(paths, 'last');
  last.spawned(plan, policy, ['true'], 1);
  await last.exited({ status: 0, code: 0, signal: null });
  assert.deepEqual(spoolFiles(stateDir), []);
  const log = openAuditLog({ stateDir });
  assert.equal(log.query({ type: 'spawn', limit: 1000 }).length, SPOOL_INTAKE_THRESHOLD);
  assert.equal(log.verify().ok, true);
  log.close();
});
