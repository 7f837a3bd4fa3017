/**
 * The relay's promise that `celistra run` returns once the command exited, even while
 * a process it left behind holds the output pipe open and silent (docs/security.md,
 * "Inherited stdio"). Without a sandbox: the holder stands for one that escaped the
 * kill (Landlock without namespaces whose helper was SIGKILLed). Found by review: the
 * relay gave up after 2 s, but its read of the pipe stayed blocked in libuv's thread
 * pool, and process.exit waits for that thread, so the run returned only when the
 * holder did.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { relayScript } from './support/relay-script.js';

/** A holder that outlives the relay's 2 s of grace by far, then exits by itself. */
const HOLDER_S = 30;

const script = relayScript(['inherit', 'relay', 'inherit']);

test('a run whose left-behind child holds stdout open and silent still returns, and keeps what came before', () => {
  const dir = mkdtempSync(join(tmpdir(), 'celistra-relay-stop-'));
  try {
    const out = join(dir, 'out');
    const started = Date.now();
    // stdout is a file, so the relay copies it; the shell's own `sleep` keeps the pipe
    // (its stderr elsewhere: spawnSync would otherwise wait for it too).
    const r = spawnSync('sh', ['-c', `exec "$NODE" --input-type=module -e "$SCRIPT" > "$OUT"`], {
      env: { ...process.env, NODE: process.execPath, SCRIPT: script, OUT: out, CMD: `sleep ${HOLDER_S} 2>/dev/null & echo before-exit` },
      encoding: 'utf8',
      timeout: (HOLDER_S + 30) * 1000,
    });
    const seconds = (Date.now() - started) / 1000;
    assert.equal(r.status, 0, r.stderr);
    assert.equal(readFileSync(out, 'utf8'), 'before-exit\n');
    assert.match(r.stderr, /stopped copying the command's stdout/);
    // The relay's grace is 2 s; the holder lives 30 s. Returning anywhere near the
    // holder's end means the run waited for it.
    assert.ok(seconds < HOLDER_S / 2, `the run returned after ${seconds.toFixed(1)} s, with the holder (${HOLDER_S} s)`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

const stdinScript = relayScript(['relay', 'inherit', 'inherit']);

/** The relay's script with stdin from `fifo`, whose writer `writer` (a shell command) is. */
function runFromFifo(dir: string, command: string, writer: string) {
  const started = Date.now();
  const r = spawnSync('sh', ['-c', `mkfifo fifo && { ${writer} > fifo 2>/dev/null & } && exec "$NODE" --input-type=module -e "$SCRIPT" < fifo`], {
    cwd: dir,
    env: { ...process.env, NODE: process.execPath, SCRIPT: stdinScript, CMD: command },
    encoding: 'utf8',
    timeout: (HOLDER_S + 30) * 1000,
  });
  return { ...r, seconds: (Date.now() - started) / 1000 };
}

test('stdin from a FIFO whose writer stays silent: a command that exits without reading it ends the run at once', () => {
  const dir = mkdtempSync(join(tmpdir(), 'celistra-relay-fifo-'));
  try {
    const r = runFromFifo(dir, 'exit 5', `sleep ${HOLDER_S}`);
    assert.equal(r.status, 5, r.stderr);
    assert.ok(r.seconds < HOLDER_S / 2, `the run returned after ${r.seconds.toFixed(1)} s, with the FIFO's writer (${HOLDER_S} s)`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('stdin from a FIFO still carries every byte its writer sends, slowly, up to its end', () => {
  const dir = mkdtempSync(join(tmpdir(), 'celistra-relay-fifo-'));
  try {
    const r = runFromFifo(dir, 'cat', `sh -c 'echo one; sleep 1; echo two; sleep 1; echo three'`);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'one\ntwo\nthree\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
