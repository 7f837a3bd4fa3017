/**
 * A `celistra run` that stays in Node (here: stdout relayed into a file) under Landlock
 * without namespaces, whose helper alone is SIGKILLed from outside: what the command left
 * running (setsid, a double fork) must not live on under the host's init. Node becomes a
 * child subreaper before it spawns the helper and ends what was reparented to it once the
 * helper is gone (src/run/orphans.ts). Before that change both sleeps outlived the run
 * (issue 15; the exec hand-over path is held by run-exec.test.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync, closeSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { CELISTRA_BIN } from '../support/celistra-cli.js';
import { isolatedEnv } from '../support/isolated-env.js';
import { landlockBackend } from '../../src/backends/landlock/index.js';

const caps = landlockBackend.probe();
const skip = caps.available ? false : `landlock unavailable here: ${caps.unavailableReason}`;

function running(cmdlines: string[]): string[] {
  return readdirSync('/proc').filter((pid) => /^\d+$/.test(pid) && (() => {
    try {
      return cmdlines.includes(readFileSync(`/proc/${pid}/cmdline`, 'utf8'));
    } catch {
      return false;
    }
  })());
}

/** `celistra run` of `script` under Landlock without namespaces, its stdout relayed into a file; what it says on stderr. */
function relayedRun(label: string, script: string): { child: ChildProcess; said: () => string } {
  const iso = isolatedEnv(label);
  const ws = join(iso.root, 'ws');
  mkdirSync(ws);
  const env = { ...iso.env, CELISTRA_FORCE_NO_USERNS: '1', CELISTRA_LANDLOCK_ROOT_WITHOUT_USERNS: 'accept-metadata-gap' };
  const out = openSync(join(iso.root, 'out'), 'w');
  const child = spawn(process.execPath, [CELISTRA_BIN, 'run', '--backend', 'landlock', '--workspace', ws, '--', 'sh', '-c', script], { env, stdio: ['ignore', out, 'pipe'] });
  closeSync(out);
  let said = '';
  child.stderr!.on('data', (d: Buffer) => (said += d.toString()));
  return { child, said: () => said };
}

test('without namespaces, a relayed run whose helper alone is SIGKILLed still ends what the command left running', { skip }, async () => {
  const tag = `${Date.now() % 100000}`;
  const a = `8${tag}1`;
  const b = `8${tag}2`;
  const run = relayedRun('celistra-relayed-orphans-', `setsid sh -c 'exec sleep ${a}' >/dev/null 2>&1 </dev/null & (sh -c 'exec sleep ${b}' >/dev/null 2>&1 </dev/null &); echo ready >&2; exec sleep 300`);
  const child = run.child;
  const sleeps = [`sleep\0${a}\0`, `sleep\0${b}\0`];
  try {
    for (const deadline = Date.now() + 10_000; !run.said().includes('ready') && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 20));
    for (const deadline = Date.now() + 5000; running(sleeps).length < 2 && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 20));
    assert.equal(running(sleeps).length, 2, `both children run (${run.said()})`);
    // The run stayed in Node (stdout is relayed): its first child is the helper.
    assert.match(readFileSync(`/proc/${child.pid}/cmdline`, 'utf8'), /node/);
    const helper = readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim().split(/\s+/)[0]!;
    assert.match(readFileSync(`/proc/${helper}/cmdline`, 'utf8'), /celistra-exec/);
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    process.kill(Number(helper), 'SIGKILL');
    await exited;
    for (const deadline = Date.now() + 5000; running(sleeps).length > 0 && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 20));
    const survivors = running(sleeps);
    for (const pid of survivors) process.kill(Number(pid), 'SIGKILL');
    assert.deepEqual(survivors, [], `children outlived the run (${run.said()})`);
    assert.match(run.said(), /ended \d+ process\(es\) the command left running after its sandbox helper was gone/);
  } finally {
    child.kill('SIGKILL');
  }
});

test('without namespaces, a leftover that holds the relayed stdout does not keep the run open after its helper alone is SIGKILLed', { skip }, async () => {
  const a = `7${Date.now() % 100000}3`;
  // The leftover keeps the command's stdout (the relay's pipe) open and writes to it, so
  // the relay, which stops waiting only after 2 s of silence, never ends: the orphans must
  // be ended as soon as the helper is reaped, not after the relay.
  const run = relayedRun('celistra-relayed-orphan-writer-', `setsid sh -c 'sleep ${a} & while :; do echo leftover; sleep 0.2; done' </dev/null 2>/dev/null & echo ready >&2; exec sleep 300`);
  const child = run.child;
  const sleeps = [`sleep\0${a}\0`];
  try {
    for (const deadline = Date.now() + 10_000; running(sleeps).length < 1 && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 20));
    assert.equal(running(sleeps).length, 1, `the leftover runs (${run.said()})`);
    const helper = readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim().split(/\s+/)[0]!;
    assert.match(readFileSync(`/proc/${helper}/cmdline`, 'utf8'), /celistra-exec/);
    let exited = false;
    const done = new Promise<void>((resolve) => child.once('exit', () => resolve((exited = true) && undefined)));
    process.kill(Number(helper), 'SIGKILL');
    await Promise.race([done, new Promise((r) => setTimeout(r, 10_000))]);
    const survivors = running(sleeps);
    for (const pid of survivors) process.kill(Number(pid), 'SIGKILL');
    assert.equal(exited, true, `the run was still open 10 s after its helper was gone (${run.said()})`);
    assert.deepEqual(survivors, [], `the leftover outlived the run (${run.said()})`);
    assert.match(run.said(), /ended \d+ process\(es\) the command left running after its sandbox helper was gone/);
  } finally {
    child.kill('SIGKILL');
  }
});
