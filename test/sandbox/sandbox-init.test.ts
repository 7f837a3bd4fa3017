/**
 * Celistra's init for bubblewrap (native/src/sandbox-init.c), run as pid 1 by `bwrap
 * --as-pid-1`: not dumpable, so the command cannot open /proc/1/mem (an unprivileged
 * command could write a loop there into bwrap's own init and hang the run: conformance
 * case 35); the command's exit status, 128+n for a signal; orphans reaped; the run ends
 * when the command does, whatever it left behind.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { CELISTRA_BIN } from '../support/celistra-cli.js';
import { isolatedEnv } from '../support/isolated-env.js';
import { bwrapBackend } from '../../src/backends/bwrap/index.js';
import { sandboxInitPath } from '../../src/backends/bwrap/sandbox-init.js';

const caps = bwrapBackend.probe();
const skip = !caps.available ? `bwrap is not usable here: ${caps.unavailableReason}` : !sandboxInitPath() ? 'the native helper is not built (npx node-gyp rebuild --directory native)' : false;

function run(script: string) {
  const iso = isolatedEnv('celistra-sandbox-init-');
  const ws = join(iso.root, 'ws');
  mkdirSync(ws);
  const started = Date.now();
  const r = spawnSync(process.execPath, [CELISTRA_BIN, 'run', '--backend', 'bwrap', '--workspace', ws, '--', 'sh', '-c', script], { env: iso.env, encoding: 'utf8', timeout: 60_000 });
  return { ...r, ms: Date.now() - started };
}

test('pid 1 is Celistra\'s init, not dumpable: the command cannot open its memory, even for reading', { skip }, () => {
  // Opening /proc/1/mem at all needs ptrace access, which a process that is not dumpable refuses.
  const r = run('cat /proc/1/cmdline | tr "\\0" " "; echo; (exec 3</proc/1/mem) 2>/dev/null && echo opened-$((6*7)); exit 0');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /celistra-exec --sandbox-init -- sh -c/);
  assert.doesNotMatch(r.stdout, /opened-42/);
});

test('the run ends with the command\'s status, 128+n for a signal, and does not wait for what it left behind', { skip }, () => {
  assert.equal(run('exit 9').status, 9);
  assert.equal(run('kill -s TERM $$').status, 143);
  const left = run('sleep 60 & setsid sleep 60 & echo started');
  assert.equal(left.status, 0, left.stderr);
  assert.ok(left.ms < 30_000, `the run waited ${left.ms} ms for the command's children`);
});

test('orphans the command leaves are reaped while it runs: no zombie stays in the sandbox', { skip }, () => {
  const r = run('for i in 1 2 3; do (sh -c "exit 0" &) ; done; sleep 0.5; grep -l "^State:.*Z" /proc/[0-9]*/status 2>/dev/null | wc -l');
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), '0');
});
