import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { celistra, makeRepo, must, scratch, snapshot, write, type Scratch } from './worktree-fixture.js';

// Each refusal must leave every file under the scratch root as it was: the main
// checkout, its .git (refs, index, objects, config), the task worktrees and their git dirs.
// Only Celistra's own state dir may change: the audit log records a refused pull.
function everythingButCelistraState(s: Scratch): string {
  return snapshot(...readdirSync(s.root).sort().map((n) => join(s.root, n)).filter((p) => p !== s.env.XDG_STATE_HOME));
}

function refuses(s: Scratch, cwd: string, args: string[], status: number, message: RegExp): void {
  const before = everythingButCelistraState(s);
  const r = celistra(args, cwd, s.env);
  assert.equal(r.status, status, `expected exit ${status} for ${args.join(' ')}, got ${r.status}: ${r.stderr}`);
  assert.match(r.stderr, message);
  assert.doesNotMatch(r.stderr, /internal error|    at /, 'a clear message, never a stack trace');
  assert.equal(everythingButCelistraState(s), before, `${args.join(' ')} changed something while refusing`);
}

function repoWithTask(label: string): { s: Scratch; repo: string; wt: string } {
  const s = scratch(label);
  const repo = makeRepo(s);
  const added = celistra(['worktree', 'add', 't'], repo, s.env);
  assert.equal(added.status, 0, added.stderr);
  return { s, repo, wt: join(s.root, 'repo-t') };
}

test('worktree add refuses a name that is already in use', () => {
  const { s, repo } = repoWithTask('refuse-name');
  refuses(s, repo, ['worktree', 'add', 't', '--path', join(s.root, 'elsewhere')], 71, /already exists/);
});

test('worktree add refuses when the branch agent/NAME already exists', () => {
  const s = scratch('refuse-branch');
  const repo = makeRepo(s);
  must('git branch agent/x', repo, s.env);
  refuses(s, repo, ['worktree', 'add', 'x'], 71, /branch agent\/x already exists/);
});

test('worktree add refuses a target path that is not an empty directory', () => {
  const s = scratch('refuse-path');
  const repo = makeRepo(s);
  mkdirSync(join(s.root, 'repo-t'));
  write(join(s.root, 'repo-t', 'precious.txt'), 'keep me\n');
  refuses(s, repo, ['worktree', 'add', 't'], 71, /not an empty directory/);
});

test('worktree add refuses a directory that is not a repository', () => {
  const s = scratch('refuse-norepo');
  mkdirSync(join(s.root, 'plain'));
  refuses(s, s.root, ['worktree', 'add', 't', '--repo', join(s.root, 'plain')], 69, /not inside a git repository/);
});

test('worktree add refuses an empty repository', () => {
  const s = scratch('refuse-empty');
  mkdirSync(join(s.root, 'empty'));
  must('git init -q -b main .', join(s.root, 'empty'), s.env);
  refuses(s, join(s.root, 'empty'), ['worktree', 'add', 't'], 69, /has no commits yet/);
});

test('worktree add refuses an invalid name and an unknown base', () => {
  const s = scratch('refuse-args');
  const repo = makeRepo(s);
  refuses(s, repo, ['worktree', 'add', '../evil'], 64, /invalid worktree name/);
  refuses(s, repo, ['worktree', 'add', 't', '--base', 'no-such-branch'], 70, /is not a commit/);
});

test('pull refuses a dirty main checkout', () => {
  const { s, repo, wt } = repoWithTask('refuse-dirty-main');
  must('echo task > task.txt && git add task.txt && git commit -qm task', wt, s.env);
  write(join(repo, 'README'), 'edited but not committed\n');
  refuses(s, repo, ['pull', 't'], 71, /uncommitted changes/);
});

test('pull refuses a conflict, in every mode', () => {
  const { s, repo, wt } = repoWithTask('refuse-conflict');
  must('echo theirs > README && git commit -qam task', wt, s.env);
  must('echo ours > README && git commit -qam main', repo, s.env);
  for (const mode of ['--merge', '--squash']) refuses(s, repo, ['pull', 't', mode], 71, /conflicts with main in: README/);
});

test('pull --ff-only refuses diverged branches', () => {
  const { s, repo, wt } = repoWithTask('refuse-ff');
  must('echo task > task.txt && git add task.txt && git commit -qm task', wt, s.env);
  must('echo other > other.txt && git add other.txt && git commit -qm other', repo, s.env);
  refuses(s, repo, ['pull', 't', '--ff-only'], 71, /cannot be fast-forwarded/);
});

test('pull refuses a main checkout on a detached HEAD', () => {
  const { s, repo, wt } = repoWithTask('refuse-detached');
  must('echo task > task.txt && git add task.txt && git commit -qm task', wt, s.env);
  must('git checkout -q --detach', repo, s.env);
  refuses(s, repo, ['pull', 't'], 71, /detached HEAD/);
});

test('pull refuses when it would overwrite an untracked file in the main checkout', () => {
  const { s, repo, wt } = repoWithTask('refuse-untracked');
  must('echo task > task.txt && git add task.txt && git commit -qm task', wt, s.env);
  write(join(repo, 'task.txt'), 'my own untracked file\n');
  refuses(s, repo, ['pull', 't'], 71, /Untracked working tree file 'task.txt' would be overwritten/);
  must('echo more > more.txt && git add more.txt && git commit -qm more', repo, s.env);
  refuses(s, repo, ['pull', 't', '--merge'], 71, /Untracked working tree file 'task.txt' would be overwritten/);
});

test('worktree rm refuses to drop uncommitted work', () => {
  const { s, repo, wt } = repoWithTask('refuse-rm-dirty');
  write(join(wt, 'new-file.txt'), 'not committed\n');
  refuses(s, repo, ['worktree', 'rm', 't'], 71, /uncommitted changes/);
  write(join(wt, 'README'), 'modified\n');
  refuses(s, repo, ['worktree', 'rm', 't', '--delete-branch'], 71, /uncommitted changes/);
});

test('worktree rm --delete-branch refuses a branch with unmerged commits unless forced', () => {
  const { s, repo, wt } = repoWithTask('refuse-rm-unmerged');
  must('echo task > task.txt && git add task.txt && git commit -qm task', wt, s.env);
  refuses(s, repo, ['worktree', 'rm', 't', '--delete-branch'], 71, /1 commit\(s\) not merged/);
  const forced = celistra(['worktree', 'rm', 't', '--delete-branch', '--force'], repo, s.env);
  assert.equal(forced.status, 0, forced.stderr);
  assert.notEqual(must('git branch --list agent/t', repo, s.env).trim(), 'agent/t');
});

test('worktree rm without --delete-branch keeps the commits on the branch', () => {
  const { s, repo, wt } = repoWithTask('rm-keeps');
  must('echo task > task.txt && git add task.txt && git commit -qm "task commit"', wt, s.env);
  const r = celistra(['worktree', 'rm', 't'], repo, s.env);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(must('git log -1 --format=%s agent/t', repo, s.env), 'task commit\n');
  assert.equal(must('git show agent/t:task.txt', repo, s.env), 'task\n');
});

test('worktree rm --force drops uncommitted work but still keeps the commits', () => {
  const { s, repo, wt } = repoWithTask('rm-force');
  must('echo task > task.txt && git add task.txt && git commit -qm "task commit" && echo wip > wip.txt', wt, s.env);
  const r = celistra(['worktree', 'rm', 't', '--force'], repo, s.env);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(must('git log -1 --format=%s agent/t', repo, s.env), 'task commit\n');
});

test('unknown worktree names are reported with the known ones', () => {
  const { s, repo } = repoWithTask('unknown');
  refuses(s, repo, ['diff', 'nope'], 70, /no worktree named "nope".*\n.*known: t/);
  refuses(s, repo, ['pull', 'nope'], 70, /no worktree named "nope"/);
  refuses(s, repo, ['worktree', 'rm', 'nope'], 70, /no worktree named "nope"/);
  refuses(s, repo, ['run', '--worktree', 'nope', '--', 'true'], 70, /no worktree named "nope"/);
  refuses(s, repo, ['run', '--worktree', 't', '--workspace', repo, '--', 'true'], 64, /not both/);
});

test('commands given a task worktree as the directory act on its main repository', () => {
  const { s, wt } = repoWithTask('from-inside');
  must('echo task > task.txt && git add task.txt && git commit -qm task', wt, s.env);
  const ls = JSON.parse(celistra(['worktree', 'ls', '--json'], wt, s.env).stdout);
  assert.deepEqual(ls.map((w: { name: string; ahead: number }) => [w.name, w.ahead]), [['t', 1]]);
  const added = celistra(['worktree', 'add', 'u'], wt, s.env);
  assert.equal(added.status, 0, added.stderr);
  assert.equal(added.stdout.trim(), join(s.root, 'repo-u'), 'a sibling of the main checkout, not of the task worktree');
});
