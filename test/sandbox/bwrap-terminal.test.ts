import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { CELISTRA_BIN } from '../support/celistra-cli.js';
import { isolatedEnv } from '../support/isolated-env.js';
import { bwrapBackend } from '../../src/backends/bwrap/index.js';
import { locateBwrap } from '../../src/backends/bwrap/locate.js';

const bwrapCaps = locateBwrap(process.env).found ? bwrapBackend.probe() : undefined;
// Installed but unusable (user namespaces disabled, unprivileged): the refusal is tested in bwrap-degraded.test.ts.
const skip = !bwrapCaps ? 'bwrap is not installed (apt-get install -y bubblewrap)' : bwrapCaps.available ? false : `bwrap is not usable here: ${bwrapCaps.unavailableReason}`;

function stage() {
  const iso = isolatedEnv('celistra-bwrap-tty-');
  const ws = join(iso.root, 'ws');
  mkdirSync(ws);
  return { ...iso, ws };
}

/** Run `file args` in a fresh PTY; `onOutput` may act on the PTY as output arrives. */
async function inPty(file: string, args: string[], env: Record<string, string>, onOutput: (all: string, term: import('node-pty').IPty) => void = () => {}): Promise<{ output: string; exitCode: number }> {
  const pty = await import('node-pty');
  const term = pty.spawn(file, args, { cols: 80, rows: 24, env });
  let output = '';
  term.onData((d) => {
    output += d;
    onOutput(output, term);
  });
  return new Promise((resolve) => term.onExit(({ exitCode }) => resolve({ output, exitCode })));
}

test('in a terminal Celistra owns, the command stays in its session and gets SIGWINCH on resize', { skip }, async () => {
  const s = stage();
  let resized = false;
  const script = 'trap "echo GOT-WINCH" WINCH; echo READY; for i in 1 2 3 4 5 6 7 8; do sleep 0.25; done; echo DONE';
  const r = await inPty(process.execPath, [CELISTRA_BIN, 'run', '--backend', 'bwrap', '--workspace', s.ws, '--', 'bash', '-c', script], s.env, (all, term) => {
    if (!resized && all.includes('READY')) {
      resized = true;
      setTimeout(() => term.resize(100, 30), 200);
    }
  });
  assert.equal(r.exitCode, 0, r.output);
  assert.match(r.output, /GOT-WINCH/);
});

test('run piped from a terminal, the command gets a new session: no controlling terminal to inject into', { skip }, async () => {
  const s = stage();
  const check = 'if (exec 3</dev/tty) 2>/dev/null; then echo HAS-CTTY; else echo NO-CTTY; fi';
  // stdin from /dev/null makes `celistra run` use pipes, while the PTY stays its controlling terminal.
  const piped = (backend: string) => inPty('/bin/sh', ['-c', `exec "$0" "$@" </dev/null`, process.execPath, CELISTRA_BIN, 'run', '--backend', backend, '--workspace', s.ws, '--', 'sh', '-c', check], s.env);
  const fenced = await piped('bwrap');
  assert.equal(fenced.exitCode, 0, fenced.output);
  assert.match(fenced.output, /NO-CTTY/);
  // Control: unsandboxed, the same command does reach the terminal, so the check can fail.
  const bare = await piped('none');
  assert.match(bare.output, /HAS-CTTY/);
});
