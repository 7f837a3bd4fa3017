import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, linkSync, mkdirSync, mkdtempSync, openSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { openRegularBehindLink } from '../src/fs/link-target.js';

// The host resolves a link the agent wrote a step at a time and opens only a regular
// file at its end (src/fs/link-target.ts): never a device, a FIFO or a directory.

const linux = process.platform === 'linux' && existsSync('/proc/self/fd');
const skip = linux ? false : 'resolves through /proc/self/fd (Linux only)';

function tree(): { root: string; dirFd: number; dir: string } {
  const root = mkdtempSync(join(tmpdir(), 'celistra-link-target-'));
  mkdirSync(join(root, 'refs'));
  const dirFd = openSync(join(root, 'refs'), 'r');
  return { root, dirFd, dir: `/proc/self/fd/${dirFd}` };
}

function read(dir: string, text: string): string {
  const r = openRegularBehindLink(dir, text);
  if ('refused' in r) return `refused: ${r.refused}`;
  try {
    return readFileSync(r.fd, 'utf8');
  } finally {
    closeSync(r.fd);
  }
}

test('relative, absolute, .. and chained links reach the regular file as the kernel would', { skip }, () => {
  const { root, dirFd, dir } = tree();
  try {
    writeFileSync(join(root, 'id'), 'abc\n');
    mkdirSync(join(root, 'sub'));
    symlinkSync('../id', join(root, 'sub', 'up'));
    symlinkSync(join(root, 'sub'), join(root, 'subdir-link'));
    assert.equal(read(dir, '../id'), 'abc\n');
    assert.equal(read(dir, join(root, 'id')), 'abc\n');
    assert.equal(read(dir, '../sub/up'), 'abc\n');
    assert.equal(read(dir, `${join(root, 'subdir-link')}/up`), 'abc\n');
    assert.equal(read(dir, './../sub/../id'), 'abc\n');
  } finally {
    closeSync(dirFd);
  }
});

test('a directory, nothing, a loop of links and a device are refused', { skip }, () => {
  const { root, dirFd, dir } = tree();
  try {
    symlinkSync('loop-b', join(root, 'loop-a'));
    symlinkSync('loop-a', join(root, 'loop-b'));
    assert.match(read(dir, '..'), /^refused: leads to a directory/);
    assert.match(read(dir, '../missing'), /^refused: leads to nothing/);
    assert.match(read(dir, '../loop-a'), /^refused: passes more than 40 links/);
    assert.match(read(dir, '/dev/null'), /^refused: leads to something other than a regular file/);
    writeFileSync(join(root, 'file'), 'x');
    assert.match(read(dir, '../file/deeper'), /^refused: leads through file, which is not a directory/);
  } finally {
    closeSync(dirFd);
  }
});

test('a FIFO at the end is refused without being opened (a writer waiting on it stays blocked)', { skip }, async () => {
  const { root, dirFd, dir } = tree();
  const fifo = join(root, 'fifo');
  execFileSync('mkfifo', [fifo]);
  const marker = join(root, 'opened');
  // The writer's open blocks until some reader opens the FIFO: the marker says one did.
  // It writes nothing: a reader that opens and closes at once would otherwise kill it
  // (SIGPIPE) before the marker, about half the time, and hide the open.
  const writer = spawn('sh', ['-c', `: > '${fifo}' && touch '${marker}'`], { stdio: 'ignore' });
  try {
    await sleep(200);
    assert.match(read(dir, '../fifo'), /^refused: leads to something other than a regular file/);
    await sleep(300);
    assert.equal(existsSync(marker), false, 'the FIFO was opened: its writer went on');
  } finally {
    writer.kill('SIGKILL');
    closeSync(dirFd);
  }
});

// renameat2(RENAME_EXCHANGE) in a loop: the name at the link's end flips between a regular
// file and a FIFO, never missing, as the agent can do while the daemon's stat resolves it.
const RACER = `
import ctypes, sys
libc = ctypes.CDLL(None, use_errno=True)
a, b = sys.argv[1].encode(), sys.argv[2].encode()
while True:
    libc.renameat2(-100, a, -100, b, 2)
`;
const python = linux && spawnSync('python3', ['-c', 'import ctypes'], { stdio: 'ignore' }).status === 0;

test('a FIFO exchanged with the regular file at the end while it is resolved is never opened', { skip: skip || (!python && 'python3 (with ctypes) is needed to race renames: not found') }, async () => {
  const { root, dirFd, dir } = tree();
  const fifo = join(root, 'fifo');
  writeFileSync(join(root, 'id'), 'abc\n');
  execFileSync('mkfifo', [fifo]);
  const marker = join(root, 'opened');
  // The writer waits on the FIFO by a name that is not raced (a hard link to it); it writes
  // nothing (a reader closing at once would kill it first).
  linkSync(fifo, join(root, 'fifo-held'));
  const writer = spawn('sh', ['-c', `: > '${join(root, 'fifo-held')}' && touch '${marker}'`], { stdio: 'ignore' });
  const racer = spawn('python3', ['-c', RACER, join(root, 'id'), fifo], { stdio: 'ignore' });
  try {
    await sleep(300);
    const until = Date.now() + 3000;
    while (Date.now() < until && !existsSync(marker)) {
      for (let i = 0; i < 200; i++) {
        const r = openRegularBehindLink(dir, '../id');
        if ('fd' in r) closeSync(r.fd);
      }
      await sleep(1);
    }
    await sleep(200);
    assert.equal(existsSync(marker), false, 'the FIFO swapped in after the lstat was opened: its writer went on');
  } finally {
    racer.kill('SIGKILL');
    writer.kill('SIGKILL');
    closeSync(dirFd);
  }
});

test('with `within`, a file outside those trees is refused unread (outside), one inside is opened', { skip }, () => {
  const { root, dirFd, dir } = tree();
  try {
    mkdirSync(join(root, 'mine'));
    writeFileSync(join(root, 'mine', 'id'), 'abc\n');
    writeFileSync(join(root, 'host-secret'), 'secret\n');
    // Through a link of the agent's inside the allowed tree that leads back out.
    symlinkSync(join(root, 'host-secret'), join(root, 'mine', 'back-out'));
    const within = [join(root, 'mine')];
    const inside = openRegularBehindLink(dir, '../mine/id', within);
    assert.ok('fd' in inside, JSON.stringify(inside));
    closeSync(inside.fd);
    for (const text of ['../host-secret', '../mine/back-out', '/proc/self/status']) {
      const r = openRegularBehindLink(dir, text, within);
      assert.ok('refused' in r && r.outside === true, `${text}: ${JSON.stringify(r)}`);
      assert.match(r.refused, /leads outside the task's worktree and git dirs/);
    }
  } finally {
    closeSync(dirFd);
  }
});
