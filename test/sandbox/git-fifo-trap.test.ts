/**
 * A FIFO the agent puts in its git state must not hang host commands: git opens loose
 * objects, packs and refs without O_NONBLOCK and would wait forever for a writer. Every
 * host git has a time limit (worktree/git.ts, CELISTRA_GIT_TIME_LIMIT): the command fails
 * with E_GIT naming the limit, and nothing of the host changed. Fenced, as root and as the
 * unprivileged user (npm test runs test/sandbox as both).
 */
import { test as nodeTest, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { celistra, CLI, makeRepo, must, scratch, snapshot } from '../worktree-fixture.js';
import { anyTaskWorktreeSkip } from '../support/fence-skip.js';

/** Every test here fences a task worktree: where no backend can, each skips saying why. */
const skip = anyTaskWorktreeSkip();
const test = (name: string, fn: (t: TestContext) => void) => nodeTest(name, { skip }, fn);

/** Long enough for any real step here, short enough that a hang fails the test rather than the suite. */
const TEST_LIMIT_MS = 60_000;

function timed(args: string[], cwd: string, env: Record<string, string>) {
  const started = Date.now();
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd, env: { ...env, CELISTRA_GIT_TIME_LIMIT: '2' }, encoding: 'utf8', timeout: TEST_LIMIT_MS });
  return { ...r, ms: Date.now() - started, hung: r.error !== undefined || r.signal !== null };
}

// The agent commits a change, then swaps the loose object of the file's new content for a FIFO.
const PLANT = `echo changed > README && git add README && git commit -qm change && b=$(git rev-parse HEAD:README) && p="$(git rev-parse --git-path objects)/$(echo $b | cut -c1-2)/$(echo $b | cut -c3-)" && rm -f "$p" && mkfifo "$p" && test -p "$p"`;

test('a FIFO in place of a loose object: diff and pull fail with E_GIT at the time limit instead of hanging, and the main checkout is unchanged', () => {
  const s = scratch('git-fifo');
  const repo = makeRepo(s);
  assert.equal(celistra(['worktree', 'add', 'a'], repo, s.env).status, 0);
  const planted = celistra(['run', '--worktree', 'a', '--', 'sh', '-c', PLANT], repo, s.env);
  assert.equal(planted.status, 0, `the plant itself: ${planted.stderr}`);
  // Not the whole repo: its .git holds the task's FIFO, which reading would hang on.
  const mainState = () => snapshot(join(repo, 'README'), join(repo, '.git', 'HEAD'), join(repo, '.git', 'index'), join(repo, '.git', 'refs'));
  const before = mainState();
  const mainHead = must('git rev-parse main', repo, s.env);

  const diff = timed(['diff', 'a'], repo, s.env);
  assert.equal(diff.hung, false, `celistra diff hung (killed by the test after ${TEST_LIMIT_MS / 1000} s)`);
  assert.notEqual(diff.status, 0);
  assert.match(diff.stderr, /ran longer than 2 s and was stopped/);

  const pull = timed(['pull', 'a'], repo, s.env);
  assert.equal(pull.hung, false, `celistra pull hung (killed by the test after ${TEST_LIMIT_MS / 1000} s)`);
  assert.notEqual(pull.status, 0, pull.stdout);
  assert.match(pull.stderr, /ran longer than 2 s and was stopped/);

  // Another run in the task (its after-run steps read the task's git state) ends too.
  const again = timed(['run', '--worktree', 'a', '--', 'true'], repo, s.env);
  assert.equal(again.hung, false, `celistra run hung after the command ended (killed by the test after ${TEST_LIMIT_MS / 1000} s)`);

  assert.equal(must('git rev-parse main', repo, s.env), mainHead, 'main did not move');
  assert.equal(mainState(), before, 'the main checkout, its index and refs are as they were');
  assert.equal(must('git status --porcelain', repo, s.env), '', 'and clean');
});

test('FIFOs in the worktree (one replacing a tracked file) are left out of the diff as git status leaves them out, instead of failing it', () => {
  const s = scratch('git-fifo-wt');
  const repo = makeRepo(s);
  assert.equal(celistra(['worktree', 'add', 'a'], repo, s.env).status, 0);
  const planted = celistra(['run', '--worktree', 'a', '--', 'sh', '-c', 'rm README && mkfifo README && mkdir d && mkfifo d/pipe && echo new > added && test -p README'], repo, s.env);
  assert.equal(planted.status, 0, `the plant itself: ${planted.stderr}`);
  const stat = timed(['diff', 'a', '--stat'], repo, s.env);
  assert.equal(stat.hung, false);
  assert.equal(stat.status, 0, stat.stderr);
  assert.match(stat.stdout, /^ README \| 2 --$/m, 'the tracked file a FIFO replaced counts as deleted');
  assert.match(stat.stdout, /^ added +\| 1 \+$/m);
  assert.doesNotMatch(stat.stdout, /pipe/);
});
