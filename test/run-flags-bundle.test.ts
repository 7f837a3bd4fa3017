import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadNativeFacts } from '../src/backends/landlock/native-addon.js';
import { openAuditLog } from '../src/audit/index.js';
import { AuditSpool, spoolDir } from '../src/audit/spool.js';
import { celistraPaths } from '../src/policy/paths.js';
import { SPOOL_INTAKE_THRESHOLD } from '../src/run/audit.js';
import { runCelistra } from './support/celistra-cli.js';
import { isolatedEnv } from './support/isolated-env.js';

// The fast path as users get it: bin/celistra.js → dist/run/run-entry.cjs, with the audit
// log's SQLite part in dist/run/run-audit-log.cjs, loaded only when needed.
const RUN_DIR = fileURLToPath(new URL('../../dist/run/', import.meta.url));

function scratch() {
  const iso = isolatedEnv('celistra-run-bundle-');
  const ws = join(iso.root, 'ws');
  mkdirSync(ws);
  return { ...iso, ws, stateDir: celistraPaths(iso.env).stateDir };
}

test('the bundle that every run loads carries neither citty nor the SQLite audit log', () => {
  const entry = readFileSync(join(RUN_DIR, 'run-entry.cjs'), 'utf8');
  assert.doesNotMatch(entry, /node_modules\/citty|better-sqlite3\/lib/);
  assert.match(entry, /require\("\.\/run-audit-log\.cjs"\)/);
  assert.match(readFileSync(join(RUN_DIR, 'run-audit-log.cjs'), 'utf8'), /better-sqlite3\/lib\/database\.js/);
});

for (const backend of ['none', 'landlock']) {
  test(`--backend ${backend}: with the spool unwritable, the run records through the audit log chunk`, (t) => {
    if (backend === 'landlock') {
      const native = loadNativeFacts();
      if (!native.ok || native.facts.landlock.kernelAbi < 1) return t.skip('no Landlock or no native addon on this machine');
    }
    const s = scratch();
    mkdirSync(s.stateDir, { recursive: true });
    // A file where the spool directory should be: every spool write fails, as on a broken disk.
    writeFileSync(spoolDir(s.stateDir), 'in the way');
    const r = runCelistra(['run', '--backend', backend, '--name', 'chunked', '--workspace', s.ws, '--', 'sh', '-c', 'exit 7'], { env: s.env });
    assert.equal(r.status, 7, r.stderr);
    const log = openAuditLog({ stateDir: s.stateDir });
    try {
      const rows = log.query({ agent: 'chunked' });
      const expected = backend === 'none' ? ['exit', 'unsandboxed', 'spawn'] : ['exit', 'spawn'];
      assert.deepEqual(rows.map((row) => row.type), expected);
      assert.equal((rows[0]!.data as { code: number }).code, 7);
      assert.equal(log.verify().ok, true);
    } finally {
      log.close();
    }
  });
}

/** `count` finished spool files, as that many earlier runs leave them (written directly: no run chains them). */
function earlierRuns(s: ReturnType<typeof scratch>, count: number): void {
  for (let i = 0; i < count; i++) {
    const spool = AuditSpool.create(s.stateDir);
    spool.record({ type: 'spawn', agent: `earlier-${i}`, data: { command: ['true'], pid: 1000 + i, via: 'run' } });
    spool.record({ type: 'exit', agent: `earlier-${i}`, data: { code: 0, signal: null, durationMs: 1 } });
    spool.finish();
  }
  assert.equal(readdirSync(spoolDir(s.stateDir)).length, count);
}

test('a run that exec\'s into the helper chains the spool first once enough finished files wait', async (t) => {
  const native = loadNativeFacts();
  if (!native.ok || native.facts.landlock.kernelAbi < 1) return t.skip('no Landlock or no native addon on this machine');
  const s = scratch();
  earlierRuns(s, SPOOL_INTAKE_THRESHOLD);
  const r = runCelistra(['run', '--backend', 'landlock', '--name', 'exec-run', '--workspace', s.ws, '--', 'sh', '-c', 'exit 3'], { env: s.env });
  assert.equal(r.status, 3, r.stderr);
  // Only this run's own file is left, finished by the helper.
  const left = readdirSync(spoolDir(s.stateDir));
  assert.equal(left.length, 1);
  assert.match(left[0]!, /\.done$/);
  const log = openAuditLog({ stateDir: s.stateDir });
  try {
    assert.equal(log.query({ type: 'spawn', limit: 1000 }).length, SPOOL_INTAKE_THRESHOLD + 1, 'the earlier runs, and this one (chained from its file on open)');
    assert.deepEqual(log.query({ agent: 'exec-run' }).map((row) => row.type), ['exit', 'spawn']);
    assert.equal(log.verify().ok, true);
  } finally {
    log.close();
  }
});

test('a run below the threshold leaves the spool for later readers', async (t) => {
  const native = loadNativeFacts();
  if (!native.ok || native.facts.landlock.kernelAbi < 1) return t.skip('no Landlock or no native addon on this machine');
  const s = scratch();
  earlierRuns(s, SPOOL_INTAKE_THRESHOLD - 1);
  const r = runCelistra(['run', '--backend', 'landlock', '--workspace', s.ws, '--', 'true'], { env: s.env });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(readdirSync(spoolDir(s.stateDir)).length, SPOOL_INTAKE_THRESHOLD);
  assert.equal(existsSync(join(s.stateDir, 'audit.db')), false, 'no run opened the database');
});

test('a run through the bundle chains the spool once enough finished files wait', async () => {
  const s = scratch();
  earlierRuns(s, SPOOL_INTAKE_THRESHOLD - 1);
  const r = runCelistra(['run', '--backend', 'none', '--name', 'last', '--workspace', s.ws, '--', 'true'], { env: s.env });
  assert.equal(r.status, 0, r.stderr);
  // Its own file was finished before it counted: everything is in the chain now.
  assert.deepEqual(readdirSync(spoolDir(s.stateDir)), []);
  const log = openAuditLog({ stateDir: s.stateDir });
  try {
    assert.equal(log.query({ type: 'spawn', limit: 1000 }).length, SPOOL_INTAKE_THRESHOLD);
    assert.deepEqual(log.query({ agent: 'last' }).map((row) => row.type), ['exit', 'unsandboxed', 'spawn']);
    assert.equal(log.verify().ok, true);
  } finally {
    log.close();
  }
});
