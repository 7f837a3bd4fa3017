import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { celistra, makeRepo, must, scratch } from './worktree-fixture.js';

function task(label: string) {
  const s = scratch(label);
  const repo = makeRepo(s);
  assert.equal(celistra(['worktree', 'add', 't'], repo, s.env).status, 0);
  const wt = join(s.root, 'repo-t');
  must('echo 1 > t1.txt && git add t1.txt && git commit -qm "first" && echo 2 > t2.txt && git add t2.txt && git commit -qm "second"', wt, s.env);
  return { s, repo, wt };
}

test('--squash makes one commit on the main branch listing the task commits', () => {
  const { s, repo } = task('pull-squash');
  const head = must('git rev-parse HEAD', repo, s.env).trim();
  const r = celistra(['pull', 't', '--squash', '--json'], repo, s.env);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).outcome, 'squash-commit');
  assert.equal(must('git rev-parse HEAD~1', repo, s.env).trim(), head, 'one commit on top of the old head');
  assert.equal(must('git rev-list --parents -n 1 HEAD', repo, s.env).trim().split(' ').length, 2, 'a single parent');
  assert.match(must('git log -1 --format=%B', repo, s.env), /Squashed agent\/t[\s\S]*\* second\n\* first/);
  assert.equal(must('git ls-files t1.txt t2.txt', repo, s.env), 't1.txt\nt2.txt\n');
  assert.equal(must('git status --porcelain', repo, s.env), '');
});

test('--ff-only fast-forwards, and pulling again reports up to date', () => {
  const { s, repo, wt } = task('pull-ff');
  const r = celistra(['pull', 't', '--ff-only', '--json'], repo, s.env);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).outcome, 'fast-forward');
  assert.equal(must('git rev-parse HEAD', repo, s.env), must('git rev-parse HEAD', wt, s.env));
  assert.equal(must('git rev-parse agent/t', repo, s.env), must('git rev-parse HEAD', wt, s.env), 'the main copy of the task branch follows');
  const again = celistra(['pull', 't', '--json'], repo, s.env);
  assert.equal(JSON.parse(again.stdout).outcome, 'up-to-date');
  assert.equal(must('git fsck --strict --no-dangling 2>&1', repo, s.env), '');
});

test('a task rebased inside its worktree onto the new main fast-forwards', () => {
  const { s, repo, wt } = task('pull-rebased');
  must('echo m > m.txt && git add m.txt && git commit -qm main-moved', repo, s.env);
  // The next run refreshes the task's view of main; the agent rebases onto it.
  const r = celistra(['run', '--worktree', 't', '--', 'git', 'rebase', '-q', 'main'], repo, s.env);
  assert.equal(r.status, 0, r.stderr);
  const pulled = celistra(['pull', 't', '--ff-only', '--json'], repo, s.env);
  assert.equal(pulled.status, 0, pulled.stderr);
  assert.equal(must('git log --format=%s -3', repo, s.env), 'second\nfirst\nmain-moved\n');
  assert.equal(must('git rev-parse HEAD', repo, s.env), must('git rev-parse HEAD', wt, s.env));
});

test('two pull modes at once are a usage error', () => {
  const { s, repo } = task('pull-usage');
  const r = celistra(['pull', 't', '--squash', '--ff-only'], repo, s.env);
  assert.equal(r.status, 64);
  assert.match(r.stderr, /choose one of --ff-only, --merge, --squash/);
});

test('every pull, and every refused pull, is in the audit log with who pulled', () => {
  const { s, repo } = task('pull-audit');
  const done = celistra(['pull', 't', '--json'], repo, s.env);
  assert.equal(done.status, 0, done.stderr);
  const commit = JSON.parse(done.stdout).commit as string;
  must('echo local >> "$(git ls-files | head -n 1)"', repo, s.env);
  const refused = celistra(['pull', 't', '--squash'], repo, s.env);
  assert.notEqual(refused.status, 0, 'a dirty main checkout refuses the pull');
  const h = celistra(['history', '--event', 'pull', '--json'], repo, s.env);
  assert.equal(h.status, 0, h.stderr);
  const rows = (JSON.parse(h.stdout) as { agent: string; data: Record<string, unknown> }[]).sort((a, b) => Number('refused' in a.data) - Number('refused' in b.data));
  assert.deepEqual(rows.map((r) => r.agent), ['t', 't']);
  assert.deepEqual(rows[0]!.data, { task: 't', mode: 'merge', by: 'cli', branch: 'agent/t', into: 'main', outcome: 'fast-forward', commit });
  assert.equal(rows[1]!.data.mode, 'squash');
  assert.match(String(rows[1]!.data.refused), /uncommitted changes/);
});
