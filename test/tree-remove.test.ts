import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { removeTree, unlinkBeneath } from '../src/fs/tree-remove.js';
import { celistra, makeRepo, scratch, snapshot } from './worktree-fixture.js';

// Host-side removal of agent-writable trees (worktree rm, the private tmp's cleanup)
// never follows a link the agent plants or swaps in while the removal runs.

function outsideTree(root: string): string {
  const outside = join(root, 'outside');
  mkdirSync(join(outside, 'deep'), { recursive: true });
  for (let i = 0; i < 20; i++) writeFileSync(join(outside, `keep-${i}`), `keep ${i}\n`);
  writeFileSync(join(outside, 'deep', 'keep'), 'keep\n');
  return outside;
}

test('removeTree removes files, directories and links, and leaves what the links point at', () => {
  const s = scratch('tree-remove');
  const outside = outsideTree(s.root);
  const before = snapshot(outside);
  const tree = join(s.root, 'tree');
  mkdirSync(join(tree, 'a', 'b', 'c'), { recursive: true });
  writeFileSync(join(tree, 'a', 'b', 'c', 'f'), 'x');
  symlinkSync(outside, join(tree, 'dirlink'));
  symlinkSync(join(outside, 'keep-1'), join(tree, 'a', 'filelink'));
  symlinkSync('/nonexistent', join(tree, 'dangling'));
  removeTree(tree);
  assert.equal(existsSync(tree), false);
  assert.equal(snapshot(outside), before);
});

const hasPython = spawnSync('python3', ['-c', 'import ctypes'], { stdio: 'ignore' }).status === 0;

test('removeTree never deletes outside the tree while a subdirectory is swapped with a symlink in a loop', { skip: hasPython ? false : 'python3 with ctypes is needed to call renameat2' }, async () => {
  const s = scratch('tree-remove-race');
  const outside = outsideTree(s.root);
  const before = snapshot(outside);
  for (let round = 0; round < 15; round++) {
    const tree = join(s.root, `tree-${round}`);
    mkdirSync(join(tree, 'sub'), { recursive: true });
    for (let i = 0; i < 200; i++) writeFileSync(join(tree, 'sub', `f-${i}`), 'x');
    symlinkSync(outside, join(tree, 'swap'));
    // The agent: exchange sub and swap (a dir and a symlink to outside) as fast as it can.
    const swapper = spawn('python3', ['-c', SWAPPER, join(tree, 'sub'), join(tree, 'swap')], { stdio: 'ignore' });
    await new Promise((r) => setTimeout(r, 20));
    try {
      removeTree(tree);
    } catch {
      // A removal that stops half-way (the agent kept writing) is allowed; following the link is not.
    } finally {
      swapper.kill('SIGKILL');
      await new Promise((r) => swapper.once('exit', r));
    }
    assert.equal(snapshot(outside), before, `round ${round}: a file outside the tree was removed`);
  }
});

// renameat2(AT_FDCWD, a, AT_FDCWD, b, RENAME_EXCHANGE) in a loop.
const SWAPPER = `
import ctypes, sys
libc = ctypes.CDLL(None, use_errno=True)
a, b = sys.argv[1].encode(), sys.argv[2].encode()
while True:
    libc.renameat2(-100, a, -100, b, 2)
`;

test('worktree rm refuses while a fenced run uses the worktree, and works once it ended', async (t) => {
  const s = scratch('rm-leased');
  const repo = makeRepo(s);
  assert.equal(celistra(['worktree', 'add', 'a'], repo, s.env).status, 0);
  const wt = join(s.root, 'repo-a');
  const run = spawn(process.execPath, [join(import.meta.dirname, '..', 'src', 'cli', 'main.js'), 'run', '--worktree', 'a', '--', 'sh', '-c', 'echo started; exec sleep 30'], { cwd: repo, env: s.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  run.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const started = await new Promise<boolean>((resolve) => {
    run.stdout!.on('data', (d: Buffer) => d.toString().includes('started') && resolve(true));
    run.once('exit', () => resolve(false));
  });
  if (!started) return t.skip(`no Linux backend could run the command here: ${err.trim()}`);
  try {
    const r = celistra(['worktree', 'rm', 'a', '--force'], repo, s.env);
    assert.equal(r.status, 71, r.stderr);
    assert.match(r.stderr, /a fenced agent is running in/);
    assert.equal(existsSync(wt), true, 'nothing was removed');
  } finally {
    run.kill('SIGTERM');
    await new Promise((r) => run.once('exit', r));
  }
  const after = celistra(['worktree', 'rm', 'a', '--force'], repo, s.env);
  assert.equal(after.status, 0, after.stderr);
  assert.equal(existsSync(wt), false);
});

test('unlinking a file beneath a root stops at a directory on the way that is a symlink, and removes nothing outside', () => {
  const s = scratch('unlink-beneath');
  const outside = outsideTree(s.root);
  const before = snapshot(outside);
  const root = join(s.root, 'shadow');
  mkdirSync(join(root, 'refs', 'heads'), { recursive: true });
  writeFileSync(join(root, 'refs', 'heads', 'main'), 'x\n');
  assert.equal(unlinkBeneath(root, 'refs/heads/main'), true);
  assert.equal(existsSync(join(root, 'refs', 'heads', 'main')), false);
  // As an agent would: `refs/tags` is a link to a directory outside holding `keep-0`.
  symlinkSync(outside, join(root, 'refs', 'tags'));
  assert.equal(unlinkBeneath(root, 'refs/tags/keep-0'), false);
  assert.equal(unlinkBeneath(root, 'refs/heads'), false, 'a directory is not unlinked');
  assert.equal(snapshot(outside), before, 'a file outside was removed through the link');
});
