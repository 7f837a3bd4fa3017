/**
 * `celistra run` never hands the fenced command a file its caller redirected stdio from or
 * to: the command gets a pipe and Celistra relays (src/run/stdio-relay.ts). These
 * tests hold the relay to what the file itself gave: every byte, in order, at the
 * caller's offset or appended; the exit status and 128+n for a signal; end of input; and
 * a run that returns when the command exits, even while a child it left holds the pipe.
 * Each runs on both Linux backends, as root and (scripts/test.js) unprivileged.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readFileSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CELISTRA_BIN } from '../support/celistra-cli.js';
import { isolatedEnv } from '../support/isolated-env.js';
import { landlockBackend } from '../../src/backends/landlock/index.js';
import { bwrapBackend } from '../../src/backends/bwrap/index.js';

const backends = [landlockBackend, bwrapBackend].map((b) => {
  const caps = b.probe();
  return { name: b.name, skip: caps.available ? false : `${b.name} unavailable here: ${caps.unavailableReason}` };
});

function stage() {
  const iso = isolatedEnv('celistra-stdio-relay-');
  const ws = join(iso.root, 'ws');
  mkdirSync(ws);
  return { ...iso, ws };
}

/** `celistra run` inside `sh -c`, so the redirections are a shell's, as a user types them. */
function shellRun(s: ReturnType<typeof stage>, backend: string, command: string, redirections: string, timeout = 120_000) {
  const script = `"$NODE" "$CELISTRA" run --backend ${backend} --workspace "$WS" -- sh -c '${command}' ${redirections}`;
  const r = spawnSync('sh', ['-c', script], { cwd: s.root, env: { ...s.env, NODE: process.execPath, CELISTRA: CELISTRA_BIN, WS: s.ws }, encoding: 'utf8', timeout });
  return { status: r.status, stderr: r.stderr, stdout: r.stdout };
}

for (const { name: backend, skip } of backends) {
  describe(`stdio relay (${backend})`, { skip }, () => {
    test('the command reads stdin\'s file, appends to the log, and its exit status comes back; it holds pipes, never the files', () => {
      const s = stage();
      writeFileSync(join(s.root, 'in'), 'input line\n');
      writeFileSync(join(s.root, 'log'), 'earlier\n');
      const r = shellRun(s, backend, 'cat; readlink /proc/$$/fd/0 /proc/$$/fd/1 /proc/$$/fd/2 | sed "s/:.*//"; exit 7', '< in >> log 2>&1');
      assert.equal(r.status, 7, r.stderr);
      assert.equal(readFileSync(join(s.root, 'log'), 'utf8'), 'earlier\ninput line\npipe\npipe\npipe\n');
    });

    test('output lands at the caller\'s offset: what the shell wrote before and after the run stays around it', () => {
      const s = stage();
      const script = `{ printf 'before\\n'; "$NODE" "$CELISTRA" run --backend ${backend} --workspace "$WS" -- sh -c 'echo during'; printf 'after\\n'; } > out`;
      const r = spawnSync('sh', ['-c', script], { cwd: s.root, env: { ...s.env, NODE: process.execPath, CELISTRA: CELISTRA_BIN, WS: s.ws }, encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(readFileSync(join(s.root, 'out'), 'utf8'), 'before\nduring\nafter\n');
    });

    test('stdout and stderr into one file keep the order the command wrote them in', () => {
      const s = stage();
      const r = shellRun(s, backend, 'i=0; while [ $i -lt 500 ]; do echo "out $i"; echo "err $i" >&2; i=$((i+1)); done', '> both 2>&1');
      assert.equal(r.status, 0, r.stderr);
      const want = Array.from({ length: 500 }, (_, i) => `out ${i}\nerr ${i}\n`).join('');
      assert.equal(readFileSync(join(s.root, 'both'), 'utf8'), want);
    });

    test('100 MB of output arrive whole, the same bytes as written', () => {
      const s = stage();
      const size = 100 * 1024 * 1024;
      const r = shellRun(s, backend, `yes 0123456789abcdef | head -c ${size}`, '> big');
      assert.equal(r.status, 0, r.stderr);
      assert.equal(statSync(join(s.root, 'big')).size, size);
      const want = createHash('sha256').update(Buffer.from('0123456789abcdef\n'.repeat(Math.ceil(size / 17))).subarray(0, size)).digest('hex');
      assert.equal(createHash('sha256').update(readFileSync(join(s.root, 'big'))).digest('hex'), want);
    });

    test('output written just before the command exits arrives although a child it left behind holds the pipe, and the run returns', () => {
      const s = stage();
      const started = Date.now();
      const r = shellRun(s, backend, 'sleep 60 & head -c 5000000 /dev/zero; echo end', '> out 2> err');
      assert.equal(r.status, 0, readFileSync(join(s.root, 'err'), 'utf8'));
      assert.equal(statSync(join(s.root, 'out')).size, 5_000_004);
      assert.equal(readFileSync(join(s.root, 'out')).subarray(-4).toString(), 'end\n');
      assert.ok(Date.now() - started < 50_000, 'the run waited for the child it left behind');
    });

    test('a command that reads only the start of a large stdin file ends normally', () => {
      const s = stage();
      writeFileSync(join(s.root, 'in'), Buffer.alloc(20 * 1024 * 1024, 'x'));
      const r = shellRun(s, backend, 'head -c 10; echo', '< in > out');
      assert.equal(r.status, 0, r.stderr);
      assert.equal(readFileSync(join(s.root, 'out'), 'utf8'), 'xxxxxxxxxx\n');
    });

    test('stdin from /dev/null reads as empty and output into it vanishes; root gets pipes, another user the device itself', () => {
      const s = stage();
      const r = shellRun(s, backend, 'wc -c; readlink /proc/$$/fd/0 /proc/$$/fd/1 | sed "s/:.*//" >&2', '< /dev/null > /dev/null 2> err');
      assert.equal(r.status, 0, r.stderr);
      const want = process.getuid?.() === 0 ? 'pipe\npipe\n' : '/dev/null\n/dev/null\n';
      assert.equal(readFileSync(join(s.root, 'err'), 'utf8'), want);
    });

    test('SIGTERM to celistra ends the command with 128+15, and what it wrote before is in the file', async () => {
      const s = stage();
      const log = openSync(join(s.root, 'log'), 'a');
      const child = spawn(process.execPath, [CELISTRA_BIN, 'run', '--backend', backend, '--workspace', s.ws, '--', 'sh', '-c', 'echo started; exec sleep 60'], { env: s.env, stdio: ['ignore', log, 'pipe'] });
      closeSync(log);
      const deadline = Date.now() + 30_000;
      while (!readFileSync(join(s.root, 'log'), 'utf8').includes('started') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      child.kill('SIGTERM');
      const status = await new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
      assert.equal(status, 143);
      assert.equal(readFileSync(join(s.root, 'log'), 'utf8'), 'started\n');
    });

    test('a SIGTERM that arrives as soon as the command runs still ends it with 128+15, every time', async () => {
      // A relayed run stays in Node: its handlers must be listening before the command
      // exists (the landlock helper starts it within ~2 ms of the spawn).
      const s = stage();
      const endings: string[] = [];
      for (let i = 0; i < 8; i++) {
        const err = openSync(join(s.root, 'err'), 'a');
        const child = spawn(process.execPath, [CELISTRA_BIN, 'run', '--backend', backend, '--workspace', s.ws, '--', 'sh', '-c', 'echo ready; exec sleep 60'], { env: s.env, stdio: ['pipe', 'pipe', err] });
        closeSync(err);
        child.stdout!.once('data', () => child.kill('SIGTERM'));
        endings.push(await new Promise<string>((r) => child.once('exit', (code, signal) => r(`${code}/${signal}`))));
      }
      assert.deepEqual(endings.filter((e) => e !== '143/null'), [], 'runs that ended otherwise');
    });
  });
}

test('a file and a named FIFO are relayed, /dev/null as root only; an anonymous pipe is passed on as it is', async () => {
  const { stdioRoute } = await import('../../src/run/stdio-kind.js');
  const s = stage();
  const file = openSync(join(s.root, 'f'), 'w');
  const devNull = openSync('/dev/null', 'r');
  assert.equal(stdioRoute(file), 'relay');
  // Root owns /dev/null and could chmod it through the descriptor; another user cannot.
  assert.equal(stdioRoute(devNull), process.getuid?.() === 0 ? 'relay' : 'inherit');
  closeSync(file);
  closeSync(devNull);
  assert.equal(spawnSync('mkfifo', [join(s.root, 'fifo')]).status, 0);
  const fifo = openSync(join(s.root, 'fifo'), 'r+');
  assert.equal(stdioRoute(fifo), 'relay');
  closeSync(fifo);
  // This test's own stdout, under node --test, is a pipe.
  if (readlinkSync('/proc/self/fd/1').startsWith('pipe:')) assert.equal(stdioRoute(1), 'inherit');
});
