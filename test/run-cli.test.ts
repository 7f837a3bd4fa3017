import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCelistra, CELISTRA_BIN } from './support/celistra-cli.js';
import { isolatedEnv } from './support/isolated-env.js';

function scratchWorkspace() {
  const iso = isolatedEnv('celistra-run-');
  const ws = join(iso.root, 'ws');
  mkdirSync(ws);
  return { ...iso, ws };
}

test('piped output of the command is passed through byte for byte', () => {
  const s = scratchWorkspace();
  const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
  writeFileSync(join(s.ws, 'blob'), bytes);
  const r = runCelistra(['run', '--backend', 'none', '--workspace', s.ws, '--', 'cat', 'blob'], { env: s.env, cwd: s.ws });
  assert.equal(r.status, 0);
  assert.deepEqual(r.stdout, bytes);
});

test('the command runs in the workspace and sees its private TMPDIR', () => {
  const s = scratchWorkspace();
  const r = runCelistra(['run', '--backend', 'none', '--workspace', s.ws, '--', 'sh', '-c', 'pwd; echo "$TMPDIR"'], { env: s.env });
  const [cwd, tmp] = r.stdout.toString().trim().split('\n');
  assert.equal(cwd, s.ws);
  assert.match(tmp!, /\/tmp\/run-/);
});

test('the exit status of the command is propagated', () => {
  const s = scratchWorkspace();
  const r = runCelistra(['run', '--backend', 'none', '--workspace', s.ws, '--', 'sh', '-c', 'exit 42'], { env: s.env });
  assert.equal(r.status, 42);
});

test('a command killed by signal n exits with 128+n', () => {
  const s = scratchWorkspace();
  const r = runCelistra(['run', '--backend', 'none', '--workspace', s.ws, '--', 'sh', '-c', 'kill -TERM $$'], { env: s.env });
  assert.equal(r.status, 128 + 15);
});

test('--backend none warns that the command runs unsandboxed', () => {
  const s = scratchWorkspace();
  const r = runCelistra(['run', '--backend', 'none', '--workspace', s.ws, '--', 'true'], { env: s.env });
  assert.match(r.stderr, /UNSANDBOXED/);
});

test('flags after -- belong to the command, not to celistra', () => {
  const s = scratchWorkspace();
  const r = runCelistra(['run', '--backend', 'none', '--workspace', s.ws, '--', 'sh', '-c', 'echo "$@"', 'x', '--help', '--workspace'], { env: s.env });
  assert.equal(r.stdout.toString(), '--help --workspace\n');
});

test('usage errors exit 64 and never run the command', () => {
  const s = scratchWorkspace();
  const marker = join(s.ws, 'ran');
  assert.equal(runCelistra(['run', '--', 'touch', marker], { env: s.env }).status, 64);
  assert.equal(runCelistra(['run', '--workspace', s.ws], { env: s.env }).status, 64);
  assert.equal(runCelistra(['run', '--workspace', s.ws, '--backend', 'bogus', '--', 'touch', marker], { env: s.env }).status, 64);
  assert.equal(runCelistra(['run', '--workspace', s.ws, '--net', 'maybe', '--', 'touch', marker], { env: s.env }).status, 64);
  assert.equal(runCelistra(['bogus-command'], { env: s.env }).status, 64);
  assert.equal(runCelistra(['run', '--alow-write', s.root, '--workspace', s.ws, '--', 'touch', marker], { env: s.env }).status, 64);
  assert.equal(existsSync(marker), false, 'the command must not have run');
});

test('a dangerous or missing workspace exits 65 and never runs the command', () => {
  const s = scratchWorkspace();
  const marker = join(s.ws, 'ran');
  for (const ws of ['/', s.home, join(s.root, 'missing')]) {
    const r = runCelistra(['run', '--backend', 'none', '--workspace', ws, '--', 'touch', marker], { env: s.env });
    assert.equal(r.status, 65, `workspace ${ws}: ${r.stderr}`);
    assert.doesNotMatch(r.stderr, /at .*\.js:\d+/, 'no stack trace');
  }
  assert.equal(existsSync(marker), false, 'the command must not have run');
});

test('in a terminal the command gets its own PTY, not the user\'s', async () => {
  const s = scratchWorkspace();
  const pty = await import('node-pty');
  // The outer shell stands for the user's terminal; the fenced command must see another.
  const term = pty.spawn('sh', ['-c', `tty; exec "${process.execPath}" "${CELISTRA_BIN}" run --backend none --workspace "${s.ws}" -- sh -c 'tty; exit 7'`], {
    cols: 80,
    rows: 24,
    env: s.env,
  });
  let out = '';
  term.onData((d) => (out += d));
  const code = await new Promise<number>((r) => term.onExit(({ exitCode }) => r(exitCode)));
  const ttys = out.match(/\/dev\/pts\/\d+/g) ?? [];
  assert.equal(ttys.length, 2, out);
  assert.notEqual(ttys[0], ttys[1]);
  assert.equal(code, 7);
});


test('a run is recorded in the audit log: spawn with env names only, then exit', () => {
  const s = scratchWorkspace();
  const env = { ...s.env, CELISTRA_TEST_SECRET: 'hunter2-do-not-log' };
  const r = runCelistra(['run', '--backend', 'none', '--name', 'audited', '--workspace', s.ws, '--', 'sh', '-c', 'exit 9'], { env });
  assert.equal(r.status, 9);
  const h = runCelistra(['history', 'audited', '--json'], { env });
  assert.equal(h.status, 0, h.stderr);
  const rows = JSON.parse(h.stdout.toString()) as Array<{ type: string; data: Record<string, unknown> }>;
  const types = rows.map((row) => row.type);
  assert.deepEqual(types.sort(), ['exit', 'spawn', 'unsandboxed']);
  const spawn = rows.find((row) => row.type === 'spawn')!;
  assert.equal(spawn.data.workspace, s.ws);
  assert.ok((spawn.data.env as string[]).includes('CELISTRA_TEST_SECRET'));
  assert.doesNotMatch(h.stdout.toString(), /hunter2/);
  assert.equal(rows.find((row) => row.type === 'exit')!.data.code, 9);
});
