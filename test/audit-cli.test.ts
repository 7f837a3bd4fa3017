import { test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openAuditLog } from '../src/audit/index.js';
import { scratchDir } from './support/scratch-dir.js';

const CELISTRA = fileURLToPath(new URL('../../bin/celistra.js', import.meta.url));
const E_USAGE = 64;
const E_AUDIT = 73;

/** Scratch HOME and XDG dirs; the audit log lives under XDG_STATE_HOME/celistra. */
function scratch() {
  const root = realpathSync(scratchDir('celistra-audit-cli-'));
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    HOME: join(root, 'home'),
    XDG_STATE_HOME: join(root, 'state'),
    XDG_CONFIG_HOME: join(root, 'config'),
    XDG_RUNTIME_DIR: join(root, 'run'),
  };
  mkdirSync(env.HOME!, { recursive: true });
  return { env, stateDir: join(root, 'state', 'celistra') };
}

function celistra(args: string[], env: Record<string, string>) {
  const r = spawnSync(process.execPath, [CELISTRA, ...args], { env, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function seed(stateDir: string) {
  const now = Date.now();
  const log = openAuditLog({ stateDir, now: () => now - 3 * 60 * 60 * 1000 });
  log.record({ type: 'spawn', agent: 'fix-bug', data: { command: ['claude', '--print', 'fix it'], workspace: '/w/fix-bug', backend: 'landlock', env: ['PATH'] } });
  log.close();
  const recent = openAuditLog({ stateDir, now: () => now - 60_000 });
  recent.record({ type: 'exit', agent: 'fix-bug', data: { code: 1, signal: null, durationMs: 4200 } });
  recent.record({ type: 'spawn', agent: 'docs', data: { command: ['aider'], workspace: '/w/docs', backend: 'bwrap', env: [] } });
  recent.record({ type: 'daemon-stop' });
  recent.close();
}

test('history prints a table of events, newest first, from XDG_STATE_HOME', () => {
  const s = scratch();
  seed(s.stateDir);
  const r = celistra(['history'], s.env);
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.match(lines[0]!, /^TIME\s+AGENT\s+EVENT\s+SUMMARY$/);
  assert.deepEqual(lines.slice(1).map((l) => l.split(/\s{2,}/).slice(1, 3)), [
    ['-', 'daemon-stop'],
    ['docs', 'spawn'],
    ['fix-bug', 'exit'],
    ['fix-bug', 'spawn'],
  ]);
  assert.match(lines[3]!, /code 1 after 4\.2s/);
  assert.match(lines[4]!, /claude --print "fix it" in \/w\/fix-bug via landlock/);
});

test('history NAME --since --event --json narrows the rows', () => {
  const s = scratch();
  seed(s.stateDir);
  const one = JSON.parse(celistra(['history', 'fix-bug', '--json'], s.env).stdout);
  assert.deepEqual(one.map((r: { type: string }) => r.type), ['exit', 'spawn']);
  assert.match(one[0].hash, /^[0-9a-f]{64}$/);
  const recent = JSON.parse(celistra(['history', 'fix-bug', '--since', '1h', '--json'], s.env).stdout);
  assert.deepEqual(recent.map((r: { type: string }) => r.type), ['exit']);
  const spawns = JSON.parse(celistra(['history', '--event', 'spawn', '--limit', '1', '--json'], s.env).stdout);
  assert.deepEqual(spawns.map((r: { agent: string }) => r.agent), ['docs']);
});

test('history refuses a bad --since, --event or --limit with a usage error', () => {
  const s = scratch();
  for (const args of [['--since', 'last tuesday'], ['--event', 'explode'], ['--limit', '0']]) {
    const r = celistra(['history', ...args], s.env);
    assert.equal(r.status, E_USAGE, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /^celistra: /);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  }
});

test('audit verify exits 0 with the row count when the chain is intact', () => {
  const s = scratch();
  seed(s.stateDir);
  const r = celistra(['audit', 'verify'], s.env);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /audit log ok: 4 rows verified/);
  const json = JSON.parse(celistra(['audit', 'verify', '--json'], s.env).stdout);
  assert.equal(json.ok, true);
  assert.equal(json.rows, 4);
});

test('audit verify exits 73 naming the first bad row after a row is edited', () => {
  const s = scratch();
  seed(s.stateDir);
  const sql = new Database(join(s.stateDir, 'audit.db'));
  sql.prepare("UPDATE events SET data = '{\"code\":0}' WHERE id = 2").run();
  sql.close();
  const r = celistra(['audit', 'verify'], s.env);
  assert.equal(r.status, E_AUDIT);
  assert.match(r.stderr, /first bad row #2/);
  const json = celistra(['audit', 'verify', '--json'], s.env);
  assert.equal(json.status, E_AUDIT);
  assert.equal(JSON.parse(json.stdout).firstBadId, 2);
});

test('audit verify mentions a database that was moved aside as unreadable', () => {
  const s = scratch();
  mkdirSync(s.stateDir, { recursive: true });
  const garbage = join(s.stateDir, 'audit.db');
  spawnSync('sh', ['-c', `head -c 10000 /dev/urandom > '${garbage}'`]);
  const r = celistra(['audit', 'verify'], s.env);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /audit log ok: 1 rows verified/);
  assert.match(r.stdout, /moved to .*audit\.db\.corrupt-/);
});

test('history on a machine with no audit log says so and creates nothing', () => {
  const s = scratch();
  const r = celistra(['history'], s.env);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /no events recorded yet/);
  assert.deepEqual(JSON.parse(celistra(['history', '--json'], s.env).stdout), []);
  assert.equal(existsSync(s.stateDir), false);
});
