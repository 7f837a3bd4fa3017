/**
 * A non-interactive `celistra run` with the user's terminal on stdin, stdout or stderr:
 * the command gets pipes and Celistra relays the terminal (src/run/terminal-stdin.ts,
 * docs/security.md "Inherited stdio"). These tests hold the relay to what a user at a
 * prompt expects: typed lines reach the command, Ctrl-D ends its stdin, Ctrl-C reaches it,
 * the run returns at once when the command is done whether or not anything was typed,
 * type-ahead meant for the shell stays in the terminal (but for one line), a background
 * run neither stops nor takes what is typed for the shell, the terminal
 * is never left in another mode, and --verbose names it. Each runs on both Linux
 * backends, as root and (scripts/test.js) unprivileged, on a real pty.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { CELISTRA_BIN } from '../support/celistra-cli.js';
import { isolatedEnv } from '../support/isolated-env.js';
import { landlockBackend } from '../../src/backends/landlock/index.js';
import { bwrapBackend } from '../../src/backends/bwrap/index.js';
import { runOnTerminal, terminalChanges, type TerminalRunOptions } from '../../conformance/pty-terminal.js';

const python = runOnTerminalAvailable();
const backends = [landlockBackend, bwrapBackend].map((b) => {
  const caps = b.probe();
  const skip = !python ? 'python3 with the pty module is not installed (the tests need a real terminal)' : caps.available ? false : `${b.name} unavailable here: ${caps.unavailableReason}`;
  return { name: b.name, skip };
});

function runOnTerminalAvailable(): boolean {
  try {
    runOnTerminal({ layout: 'tnn', argv: ['true'], timeoutMs: 5000 });
    return true;
  } catch {
    return false;
  }
}

const otherUser = process.getuid?.() === 0 ? unprivilegedUser() : undefined;
const otherUserSkip =
  process.getuid?.() !== 0
    ? 'needs root, to run as another user on a terminal root owns'
    : !otherUser
      ? 'no unprivileged test user (CELISTRA_TEST_USER, default celistra-ci)'
      : !readableBy(otherUser.name, CELISTRA_BIN)
        ? `${otherUser.name} cannot read this checkout's ${CELISTRA_BIN} (a private clone, mode 0700): the unprivileged run of this file covers the rest`
        : false;

/** Whether `user` can reach and read `path` (every directory above it searchable). */
function readableBy(user: string, path: string): boolean {
  return spawnSync('runuser', ['-u', user, '--', 'test', '-r', path]).status === 0;
}

function stage() {
  const iso = isolatedEnv('celistra-terminal-stdio-');
  const ws = join(iso.root, 'ws');
  mkdirSync(ws);
  const files = [0, 1, 2].map((i) => join(iso.root, `stdio-${i}`));
  for (const f of files) writeFileSync(f, '');
  return { ...iso, ws, files };
}

function onTerminal(s: ReturnType<typeof stage>, backend: string, layout: string, command: string, more: Partial<TerminalRunOptions> = {}, flags: string[] = []) {
  const argv = [process.execPath, CELISTRA_BIN, 'run', ...flags, '--backend', backend, '--workspace', s.ws, '--', 'sh', '-c', command];
  const r = runOnTerminal({ layout, files: s.files, argv, env: s.env, cwd: s.root, ...more });
  assert.deepEqual(terminalChanges(r.before, r.after), [], 'the terminal must be left as it was');
  return r;
}

for (const { name: backend, skip } of backends) {
  describe(`terminal stdio of a non-interactive run (${backend})`, { skip }, () => {
    test('typed lines reach the command through a pipe; Ctrl-D ends its stdin', () => {
      const s = stage();
      const r = onTerminal(s, backend, 'tff', 'readlink /proc/$$/fd/0 | sed "s/:.*//"; cat; echo "status after EOF: $?"', {
        typing: [
          { afterMs: 400, text: 'one\n' },
          { afterMs: 700, text: 'two\n' },
          { afterMs: 1000, text: '\x04' },
        ],
      });
      assert.equal(r.status, 0, readFileSync(s.files[2]!, 'utf8'));
      assert.equal(readFileSync(s.files[1]!, 'utf8'), 'pipe\none\ntwo\nstatus after EOF: 0\n');
    });

    test('Ctrl-C reaches the command: it ends with SIGINT and the run says so (130)', () => {
      const s = stage();
      const r = onTerminal(s, backend, 'tff', 'echo started; exec sleep 30', { typing: [{ afterMs: 3000, text: '\x03' }], timeoutMs: 20_000 });
      assert.equal(r.status, 130, `${readFileSync(s.files[2]!, 'utf8')} / ${r.terminal}`);
      assert.ok(r.ms < 12_000, `the run took ${r.ms} ms (Ctrl-C at 3 s)`);
    });

    test('a command that never reads returns at once; type-ahead for the shell stays in the terminal but for one line', () => {
      const s = stage();
      const r = onTerminal(s, backend, 'tff', 'sleep 1.5; echo done', {
        typing: [
          { afterMs: 300, text: 'first\n' },
          { afterMs: 500, text: 'second\n' },
          { afterMs: 700, text: 'third\n' },
        ],
      });
      assert.equal(r.status, 0);
      assert.equal(readFileSync(s.files[1]!, 'utf8'), 'done\n');
      // The relay read one line into the command's pipe, and no more while it sat unread.
      assert.equal(r.leftover, 'second\nthird\n');
      assert.ok(r.ms < 8000, `the run took ${r.ms} ms`);
    });

    test('nothing typed: a run with a terminal stdin still returns when the command exits', () => {
      const s = stage();
      const r = onTerminal(s, backend, 'tff', 'echo quick');
      assert.equal(r.status, 0);
      assert.equal(readFileSync(s.files[1]!, 'utf8'), 'quick\n');
      assert.ok(r.ms < 8000, `the run took ${r.ms} ms`);
    });

    test('output to the terminal arrives in order, stdout and stderr on one pipe; the command sees no terminal', () => {
      const s = stage();
      const r = onTerminal(s, backend, 'ntt', 'for i in 1 2 3; do echo "out $i"; echo "err $i" >&2; done; [ -t 1 ] || echo "no terminal"; stty -echo 2>/dev/null || echo "stty refused"');
      assert.equal(r.status, 0);
      assert.equal(r.terminal.replace(/\r/g, ''), 'out 1\nerr 1\nout 2\nerr 2\nout 3\nerr 3\nno terminal\nstty refused\n');
    });

    test('a background run (`&` in an interactive shell) is not stopped and takes nothing typed for the shell', () => {
      const s = stage();
      const run = `"${process.execPath}" "${CELISTRA_BIN}" run --backend ${backend} --workspace "${s.ws}" -- sh -c 'sleep 1.5; echo bg-done'`;
      const argv = ['bash', '--norc', '--noprofile', '-ic', `${run} > "${s.files[1]}" & sleep 0.8; jobs -l; wait; echo "waited $?"`];
      const r = runOnTerminal({ layout: 'ttt', argv, env: s.env, cwd: s.root, typing: [{ afterMs: 500, text: 'for-the-shell\n' }] });
      assert.deepEqual(terminalChanges(r.before, r.after), []);
      assert.equal(readFileSync(s.files[1]!, 'utf8'), 'bg-done\n');
      assert.doesNotMatch(r.terminal, /Stopped/);
      assert.match(r.terminal, /Running[\s\S]*waited 0/);
      assert.equal(r.leftover, 'for-the-shell\n');
    });

    test('a background run that ends leaves the terminal as the foreground set it (echo stays off at a password prompt)', () => {
      // Node restores, at exit, the termios it found at start, even in the background:
      // before run/terminal-exit.ts this turned echo back on under the user's prompt.
      const s = stage();
      const run = `"${process.execPath}" "${CELISTRA_BIN}" run --backend ${backend} --workspace "${s.ws}" -- sleep 1`;
      const look = `stty -a | tr ' ' '\\n' | grep -x -- '-\\{0,1\\}echo'`;
      const argv = ['bash', '--norc', '--noprofile', '-ic', `${run} > "${s.files[1]}" & sleep 0.3; stty -echo; echo "during: $(${look})"; wait; echo "after: $(${look})"; stty echo`];
      const r = runOnTerminal({ layout: 'ttt', argv, env: s.env, cwd: s.root });
      assert.deepEqual(terminalChanges(r.before, r.after), []);
      assert.match(r.terminal, /during: -echo/);
      assert.match(r.terminal, /after: -echo/, r.terminal);
    });

    test('--verbose names the relayed terminal', () => {
      const s = stage();
      const r = onTerminal(s, backend, 'fft', 'true', {}, ['--verbose']);
      assert.equal(r.status, 0);
      assert.match(r.terminal, /relaying stdin, stdout, stderr \(the terminal \/dev\/pts\/\d+\) through a pipe/);
    });

    test('a terminal the caller cannot open again (a shell after `su`): the command gets an empty stdin and a note, nothing typed is taken', { skip: otherUserSkip }, () => {
      // The pty is root's (mode 0620), the run another user's, as after `su - user`.
      const dir = mkdtempSync('/var/tmp/celistra-tty-su-');
      const user = otherUser!;
      try {
        const ws = join(dir, 'ws');
        mkdirSync(ws);
        const files = [0, 1, 2].map((i) => join(dir, `stdio-${i}`));
        for (const f of files) writeFileSync(f, '');
        for (const p of [dir, ws, ...files]) chownSync(p, user.uid, user.gid);
        const argv = ['runuser', '-u', user.name, '--', 'env', `HOME=${user.home}`, process.execPath, CELISTRA_BIN, 'run', '--backend', backend, '--workspace', ws, '--', 'sh', '-c', 'cat; echo "cat ended $?"'];
        const r = runOnTerminal({ layout: 'tff', files, argv, cwd: dir, typing: [{ afterMs: 500, text: 'for-the-shell\n' }] });
        assert.deepEqual(terminalChanges(r.before, r.after), []);
        assert.equal(r.status, 0, readFileSync(files[2]!, 'utf8'));
        assert.equal(readFileSync(files[1]!, 'utf8'), 'cat ended 0\n');
        assert.match(readFileSync(files[2]!, 'utf8'), /cannot open the terminal on stdin again .*the command's stdin is empty/);
        assert.equal(r.leftover, 'for-the-shell\n');
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}

/** The unprivileged user scripts/test.js runs the sandbox tests as, when this runs as root. */
function unprivilegedUser(): { name: string; uid: number; gid: number; home: string } | undefined {
  const name = process.env.CELISTRA_TEST_USER ?? 'celistra-ci';
  const r = spawnSync('id', ['-u', name], { encoding: 'utf8' });
  const g = spawnSync('id', ['-g', name], { encoding: 'utf8' });
  if (r.status !== 0 || g.status !== 0) return undefined;
  return { name, uid: Number(r.stdout), gid: Number(g.stdout), home: `/home/${name}` };
}

