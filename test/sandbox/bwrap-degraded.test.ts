import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { runCelistra } from '../support/celistra-cli.js';
import { isolatedEnv } from '../support/isolated-env.js';

function stage() {
  const iso = isolatedEnv('celistra-bwrap-missing-');
  const ws = join(iso.root, 'ws');
  mkdirSync(ws);
  return { ...iso, ws, marker: join(ws, 'ran') };
}

test('with CELISTRA_BWRAP pointing nowhere, --backend bwrap refuses and runs nothing', () => {
  const s = stage();
  const r = runCelistra(['run', '--backend', 'bwrap', '--workspace', s.ws, '--', 'sh', '-c', `touch ${s.marker}`], { env: { ...s.env, CELISTRA_BWRAP: '/nonexistent/bwrap' } });
  assert.equal(r.status, 67, r.stderr);
  assert.match(r.stderr, /bwrap not found \(CELISTRA_BWRAP=\/nonexistent\/bwrap\)/);
  assert.ok(!existsSync(s.marker), 'the command must not have run');
});

test('with no bwrap on PATH, --backend bwrap refuses, names the package to install, and runs nothing', () => {
  const s = stage();
  const env = { ...s.env, PATH: '/nonexistent' };
  delete (env as Record<string, string | undefined>).CELISTRA_BWRAP;
  const r = runCelistra(['run', '--backend', 'bwrap', '--workspace', s.ws, '--', '/bin/sh', '-c', `touch ${s.marker}`], { env });
  assert.equal(r.status, 67, r.stderr);
  assert.match(r.stderr, /apt-get install -y bubblewrap/);
  assert.ok(!existsSync(s.marker), 'the command must not have run');
});

const bwrapInstalled = spawnSync('sh', ['-c', 'command -v bwrap'], { stdio: 'ignore' }).status === 0;
const noUsernsSkip = process.getuid?.() === 0
  ? 'root needs no user namespace; runs unprivileged in npm test'
  : !bwrapInstalled ? 'bubblewrap is not installed: the refusal names the missing bwrap first (the test above)' : false;

test('unprivileged, with user namespaces forced off, --backend bwrap refuses and runs nothing', { skip: noUsernsSkip }, () => {
  const s = stage();
  const r = runCelistra(['run', '--backend', 'bwrap', '--workspace', s.ws, '--', 'sh', '-c', `touch ${s.marker}`], { env: { ...s.env, CELISTRA_FORCE_NO_USERNS: '1' } });
  assert.equal(r.status, 67, r.stderr);
  assert.match(r.stderr, /user namespaces are unavailable/);
  assert.ok(!existsSync(s.marker), 'the command must not have run');
});
