import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { CELISTRA_BIN, runCelistra } from './support/celistra-cli.js';
import { fenceStage, snapshotTree } from './support/fence-stage.js';

// The real thing: these run only on macOS (the macos-latest CI job), where sandbox-exec exists.
const skip = process.platform === 'darwin' ? false : 'Seatbelt runs only on macOS (covered by the macOS CI job)';

const stage = () => fenceStage('celistra-seatbelt-');

function fenced(s: { ws: string; env: Record<string, string> }, script: string, args: string[] = [], extra: string[] = []) {
  return runCelistra(['run', '--backend', 'seatbelt', '--workspace', s.ws, ...extra, '--', 'sh', '-c', script, 'sh', ...args], { env: s.env });
}

test('writes inside the workspace and TMPDIR succeed', { skip }, () => {
  const s = stage();
  const r = fenced(s, 'echo made > f && mkdir d && mv f d/g && chmod 600 d/g && echo t > "$TMPDIR/t" && cat "$TMPDIR/t"');
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.toString(), 't\n');
  assert.equal(readFileSync(join(s.ws, 'd', 'g'), 'utf8'), 'made\n');
});

test('writes and metadata changes outside fail and leave the host unchanged', { skip }, () => {
  const s = stage();
  const before = [snapshotTree(s.sibling), snapshotTree(s.home)];
  const attempts = [`echo x > "$1/new"`, `echo x >> "$1/file"`, `rm "$1/file"`, `mv "$1/file" "$1/moved"`, `echo x >> "$2"`, `chmod 777 "$2"`, `touch -d 2001-01-01T00:00:00 "$2"`, `mv "$2" "$2.old"`];
  const r = fenced(s, `fail=0; for a in ${attempts.map((a) => `'${a}'`).join(' ')}; do if sh -c "$a" sh "$1" "$2" 2>/dev/null; then echo "ALLOWED: $a"; fail=1; fi; done; exit $fail`, [s.sibling, s.canary]);
  assert.equal(r.status, 0, r.stdout.toString() + r.stderr);
  assert.deepEqual([snapshotTree(s.sibling), snapshotTree(s.home)], before);
});

test('read-denied paths cannot be read', { skip }, () => {
  const s = stage();
  const r = fenced(s, 'cat "$1/.ssh/id_ed25519"; ls "$1/.ssh"; exit 0', [s.home]);
  assert.equal(r.status, 0, r.stderr);
  assert.doesNotMatch(r.stdout.toString(), /PRIVATE KEY|id_ed25519/);
});

test('--net off blocks a TCP connect to a loopback listener; --net on reaches it', { skip }, async () => {
  const s = stage();
  const server = createServer((c) => c.destroy());
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const port = String((server.address() as AddressInfo).port);
  // Node rather than python3: macOS's /usr/bin/python3 is an xcrun shim.
  const probe = "const c = require('net').connect(Number(process.argv[1]), '127.0.0.1', () => process.exit(0)); c.on('error', () => process.exit(3)); setTimeout(() => process.exit(4), 3000);";
  const run = (net: string) => runCelistra(['run', '--backend', 'seatbelt', '--net', net, '--workspace', s.ws, '--', process.execPath, '-e', probe, port], { env: s.env });
  const off = run('off');
  const on = run('on');
  server.close();
  assert.equal(off.status, 3, off.stderr);
  assert.equal(on.status, 0, on.stderr);
});

test('the exit status of the command is propagated', { skip }, () => {
  const s = stage();
  assert.equal(fenced(s, 'exit 42').status, 42);
});

test('a writable descriptor Celistra inherited does not reach the command', { skip }, () => {
  const s = stage();
  const outside = join(s.root, 'leaked.txt');
  writeFileSync(outside, 'untouched\n');
  const before = snapshotTree(outside);
  const fd = openSync(outside, 'a');
  try {
    const r = spawnSync(process.execPath, [CELISTRA_BIN, 'run', '--backend', 'seatbelt', '--workspace', s.ws, '--', 'sh', '-c', 'echo pwn >&3 && exit 1; exit 0'], { env: s.env, stdio: ['ignore', 'pipe', 'pipe', fd], encoding: 'utf8' });
    assert.equal(r.status, 0, r.stdout + r.stderr);
  } finally {
    closeSync(fd);
  }
  assert.deepEqual(snapshotTree(outside), before);
});
