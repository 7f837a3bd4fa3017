/**
 * A piped `celistra run` under the Landlock backend becomes celistra-exec (exec, no Node
 * process beside the command; src/run/launch-exec.ts), and the helper's first process
 * does what Node did after the command (native/src/exit-report.c). These tests hold it to
 * everything a spawned run promised: byte-exact stdio, the exit status, 128+n for a
 * signal sent to Celistra, the exit event in the audit log, and no private TMPDIR left
 * behind — removed without following a link the command planted there.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, readlinkSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CELISTRA_BIN, runCelistra } from '../support/celistra-cli.js';
import { isolatedEnv } from '../support/isolated-env.js';
import { landlockBackend } from '../../src/backends/landlock/index.js';
import { openAuditLog } from '../../src/audit/index.js';
import { snapshotTree } from '../support/fence-stage.js';

const caps = landlockBackend.probe();
const skip = caps.available ? false : `landlock unavailable here: ${caps.unavailableReason}`;

function stage() {
  const iso = isolatedEnv('celistra-run-exec-');
  const ws = join(iso.root, 'ws');
  mkdirSync(ws);
  return { ...iso, ws };
}

function history(env: Record<string, string>) {
  const r = runCelistra(['history', '--json', '--limit', '1000'], { env });
  assert.equal(r.status, 0, r.stderr.toString());
  return JSON.parse(r.stdout.toString()) as { type: string; agent: string; data: Record<string, unknown> }[];
}

function privateTmpLeft(env: Record<string, string>): string[] {
  try {
    return readdirSync(join(env.XDG_RUNTIME_DIR!, 'celistra', 'tmp'));
  } catch {
    return [];
  }
}

describe('celistra run exec into the Landlock helper', { skip }, () => {
  test('stdin and stdout pass byte for byte, and the exit status is the command\'s', () => {
    const s = stage();
    const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const r = spawnSync(process.execPath, [CELISTRA_BIN, 'run', '--backend', 'landlock', '--workspace', s.ws, '--', 'sh', '-c', 'cat; exit 9'], { env: s.env, input: bytes });
    assert.equal(r.status, 9, r.stderr.toString());
    assert.deepEqual(r.stdout, bytes);
  });

  test('while the command runs, the process Celistra started is celistra-exec waiting for the helper, not Node', async () => {
    const s = stage();
    const child = spawn(process.execPath, [CELISTRA_BIN, 'run', '--backend', 'landlock', '--workspace', s.ws, '--', 'sh', '-c', 'echo started; sleep 2'], { env: s.env, stdio: ['ignore', 'pipe', 'pipe'] });
    await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
    // It waits for the helper, which runs in its child (native/src/exec-replace.c) and passes
    // on only the signals the waiter sends: the terminal's ^C reaches both.
    const args = (pid: number | string) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').slice(1, -1);
    // The helper (and so the command) may start before this process's own exec is done.
    for (const deadline = Date.now() + 5000; args(child.pid!)[0] !== '--wait-for' && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 10));
    const exe = readlinkSync(`/proc/${child.pid}/exe`);
    const waiterArgs = args(child.pid!);
    const helperArgs = args(waiterArgs[1]!);
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    assert.match(exe, /celistra-exec$/);
    assert.equal(waiterArgs[0], '--wait-for');
    assert.ok(helperArgs.includes('--signals-via-parent') && helperArgs.includes('--spool'), helperArgs.join(' '));
    assert.equal(await exited, 0);
  });

  test('a SIGTERM sent to Celistra reaches the command; Celistra exits 143 and the log says so', async () => {
    const s = stage();
    const child = spawn(process.execPath, [CELISTRA_BIN, 'run', '--backend', 'landlock', '--name', 'term-me', '--workspace', s.ws, '--', 'sh', '-c', 'echo ready; sleep 30'], { env: s.env, stdio: ['ignore', 'pipe', 'pipe'] });
    await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
    const exited = new Promise<[number | null, string | null]>((resolve) => child.once('exit', (code, signal) => resolve([code, signal])));
    child.kill('SIGTERM');
    assert.deepEqual(await exited, [143, null]);
    const rows = history(s.env).filter((r) => r.agent === 'term-me');
    assert.deepEqual(rows.map((r) => r.type), ['exit', 'spawn']);
    assert.deepEqual({ code: rows[0]!.data.code, signal: rows[0]!.data.signal }, { code: null, signal: 'SIGTERM' });
  });

  test('a SIGTERM that arrives while the run hands its process over still reaches the command, every time', async () => {
    // The command can start before Node's process has finished its exec into the waiter;
    // a signal then must not be taken, at its default action, by one of Node's other
    // threads (which killed the whole run, unrecorded: one try in six on a busy machine).
    // The pause holds the process in that window until well after the command started.
    const s = stage();
    const env = { ...s.env, CELISTRA_TEST_HANDOVER_PAUSE_MS: '300' };
    const tries = 5;
    const endings: string[] = [];
    for (let i = 0; i < tries; i++) {
      const child = spawn(process.execPath, [CELISTRA_BIN, 'run', '--backend', 'landlock', '--name', 'early-term', '--workspace', s.ws, '--', 'sh', '-c', 'echo ready; sleep 30'], { env, stdio: ['ignore', 'pipe', 'ignore'] });
      child.stdout.once('data', () => child.kill('SIGTERM'));
      endings.push(await new Promise<string>((resolve) => child.once('exit', (code, signal) => resolve(`${code}/${signal}`))));
    }
    assert.deepEqual(endings.filter((e) => e !== '143/null'), [], 'runs that did not pass the SIGTERM on');
    const exits = history(s.env).filter((r) => r.agent === 'early-term' && r.type === 'exit');
    assert.equal(exits.length, tries);
    assert.ok(exits.every((r) => r.data.signal === 'SIGTERM'), JSON.stringify(exits.map((r) => r.data)));
  });

  test('a SIGKILL to Celistra\'s pid ends everything the run started', async () => {
    const s = stage();
    const marker = `${30 + Math.floor(Math.random() * 1000) / 1000}`;
    const child = spawn(process.execPath, [CELISTRA_BIN, 'run', '--backend', 'landlock', '--workspace', s.ws, '--', 'sh', '-c', `echo ready; exec sleep ${marker}`], { env: s.env, stdio: ['ignore', 'pipe', 'pipe'] });
    await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
    const exited = new Promise<[number | null, string | null]>((resolve) => child.once('exit', (code, signal) => resolve([code, signal])));
    const sleeping = () => readdirSync('/proc').filter((pid) => /^\d+$/.test(pid) && (() => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8') === `sleep\0${marker}\0`;
      } catch {
        return false;
      }
    })());
    // `ready` comes just before the exec of sleep.
    for (const deadline = Date.now() + 5000; sleeping().length === 0 && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 20));
    assert.equal(sleeping().length, 1, 'the command runs');
    child.kill('SIGKILL');
    assert.deepEqual(await exited, [null, 'SIGKILL']);
    for (const deadline = Date.now() + 5000; sleeping().length > 0 && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(sleeping(), [], 'the command outlived Celistra');
  });

  for (const target of ['Celistra\'s pid', 'the helper'] as const) {
    test(`without namespaces, a SIGKILL to ${target} still ends what the command left running (setsid, double fork)`, async () => {
      // The helper's subreaper role dies with it: the waiter (a subreaper too) ends what it
      // leaves, and the helper, asked for PARENT_DIED_SIGNAL instead of SIGKILL here, ends
      // it first when the waiter goes (conformance case 26).
      const s = stage();
      const tag = `${Date.now() % 100000}`;
      const a = `7${tag}1`;
      const b = `7${tag}2`;
      const script = `setsid sh -c 'exec sleep ${a}' >/dev/null 2>&1 </dev/null & (sh -c 'exec sleep ${b}' >/dev/null 2>&1 </dev/null &); echo ready; exec sleep 300`;
      const env = { ...s.env, CELISTRA_FORCE_NO_USERNS: '1', CELISTRA_LANDLOCK_ROOT_WITHOUT_USERNS: 'accept-metadata-gap' };
      const child = spawn(process.execPath, [CELISTRA_BIN, 'run', '--backend', 'landlock', '--workspace', s.ws, '--', 'sh', '-c', script], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
      const left = () => readdirSync('/proc').filter((pid) => /^\d+$/.test(pid) && (() => {
        try {
          return [`sleep\0${a}\0`, `sleep\0${b}\0`].includes(readFileSync(`/proc/${pid}/cmdline`, 'utf8'));
        } catch {
          return false;
        }
      })());
      for (const deadline = Date.now() + 5000; left().length < 2 && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 20));
      assert.equal(left().length, 2, 'both children run');
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      if (target === 'the helper') {
        const helper = readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim().split(/\s+/)[0]!;
        process.kill(Number(helper), 'SIGKILL');
      } else child.kill('SIGKILL');
      await exited;
      for (const deadline = Date.now() + 5000; left().length > 0 && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 20));
      const survivors = left();
      for (const pid of survivors) process.kill(Number(pid), 'SIGKILL');
      assert.deepEqual(survivors, [], 'children outlived the run');
    });
  }

  test('the exit event is written by the helper, with the code and a real duration, and chains like any other', () => {
    const s = stage();
    const r = runCelistra(['run', '--backend', 'landlock', '--name', 'timed', '--workspace', s.ws, '--', 'sh', '-c', 'sleep 0.3; exit 4'], { env: s.env });
    assert.equal(r.status, 4, r.stderr.toString());
    const rows = history(s.env).filter((x) => x.agent === 'timed');
    assert.deepEqual(rows.map((x) => x.type), ['exit', 'spawn']);
    assert.equal(rows[0]!.data.code, 4);
    assert.equal(rows[0]!.data.signal, null);
    assert.ok(Number(rows[0]!.data.durationMs) >= 300, `durationMs ${rows[0]!.data.durationMs}`);
    const log = openAuditLog({ stateDir: join(s.env.XDG_STATE_HOME!, 'celistra') });
    assert.equal(log.verify().ok, true);
    log.close();
  });

  test('the private TMPDIR is removed with what the command left there, never through a planted link', () => {
    const s = stage();
    const outside = join(s.root, 'outside');
    mkdirSync(outside);
    writeFileSync(join(outside, 'keep.txt'), 'KEEP\n');
    const before = snapshotTree(outside);
    // The link's target is read-only to the command, but the cleanup runs outside the fence:
    // it must remove the link itself, not what it points to.
    const script = `mkdir -p "$TMPDIR/a/b" && echo x > "$TMPDIR/a/b/f" && ln -s '${outside}' "$TMPDIR/link" && ln -s '${join(outside, 'keep.txt')}' "$TMPDIR/a/file-link"`;
    const r = runCelistra(['run', '--backend', 'landlock', '--workspace', s.ws, '--', 'sh', '-c', script], { env: s.env });
    assert.equal(r.status, 0, r.stderr.toString());
    assert.deepEqual(privateTmpLeft(s.env), []);
    assert.deepEqual(snapshotTree(outside), before);
    assert.equal(readFileSync(join(outside, 'keep.txt'), 'utf8'), 'KEEP\n');
  });
});
