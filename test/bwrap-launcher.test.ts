import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, type StdioOptions } from 'node:child_process';
import { chmodSync, closeSync, existsSync, openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { launcherArgs, locateBash } from '../src/backends/bwrap/launcher.js';
import { scratchDir } from './support/scratch-dir.js';

const skip = process.platform === 'linux' ? false : 'the launcher reads /proc (Linux only)';

/** A stand-in for bwrap that reports the arguments and descriptors it received. */
function fakeBwrap(): string {
  const dir = scratchDir('celistra-launcher-');
  const p = join(dir, 'bwrap');
  writeFileSync(p, '#!/bin/sh\necho "ARGS: $*"\necho "FDS: $(ls /proc/self/fd | sort -n | tr "\\n" " ")"\n');
  chmodSync(p, 0o755);
  return p;
}

function launch(opts: { detached: boolean; extraFd?: number }) {
  const stdio: StdioOptions = opts.extraFd === undefined ? ['ignore', 'pipe', 'pipe'] : ['ignore', 'pipe', 'pipe', opts.extraFd];
  // detached: setsid() in the child, as node-pty does for a terminal (spawnSync honours it; its types omit it).
  const options = { stdio, detached: opts.detached, encoding: 'utf8' as const };
  const r = spawnSync(locateBash(), launcherArgs(fakeBwrap(), ['--unshare-pid', '--', 'cmd', 'arg with space']), options);
  assert.equal(r.status, 0, r.stderr);
  const [args, fds] = r.stdout.trim().split('\n');
  return { args: args!.replace(/^ARGS: /, ''), fds: fds!.replace(/^FDS: /, '').trim().split(' ') };
}

test('outside a session of its own, bwrap gets --new-session first and the rest unchanged', { skip }, () => {
  assert.equal(launch({ detached: false }).args, '--new-session --unshare-pid -- cmd arg with space');
});

test('as a session leader (a PTY Celistra owns), bwrap keeps the session so the command gets SIGWINCH and ^C', { skip }, () => {
  assert.equal(launch({ detached: true }).args, '--unshare-pid -- cmd arg with space');
});

test('descriptors above 2 are closed before bwrap starts', { skip }, () => {
  const fd = openSync(join(scratchDir('celistra-launcher-fd-'), 'leak'), 'a');
  try {
    const { fds } = launch({ detached: false, extraFd: fd });
    // fd 3 was handed down; what ls sees is stdio plus its own directory handle (3 again).
    assert.deepEqual(fds, ['0', '1', '2', '3']);
  } finally {
    closeSync(fd);
  }
});

test('no startup file runs before bwrap: neither ~/.bashrc (stdin a socket) nor BASH_ENV', { skip }, () => {
  const home = scratchDir('celistra-launcher-home-');
  const marker = join(home, 'rc-ran');
  writeFileSync(join(home, '.bashrc'), `touch ${marker}-bashrc\n`);
  writeFileSync(join(home, 'env.sh'), `touch ${marker}-bash-env\n`);
  // Node's 'pipe' stdio is a socketpair: bash takes a socket on stdin for rshd and would read ~/.bashrc.
  const r = spawnSync(locateBash(), launcherArgs(fakeBwrap(), ['x']), { stdio: ['pipe', 'pipe', 'pipe'], env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, BASH_ENV: join(home, 'env.sh') }, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, '');
  assert.ok(!existsSync(`${marker}-bashrc`), '~/.bashrc ran');
  assert.ok(!existsSync(`${marker}-bash-env`), 'BASH_ENV ran');
});
