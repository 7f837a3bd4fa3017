import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { celistra, makeRepo, must, scratch, write } from './worktree-fixture.js';

test('--base and --path choose the start point and the place', () => {
  const s = scratch('add-base');
  const repo = makeRepo(s);
  must('git tag v1 HEAD~1', repo, s.env);
  const where = join(s.root, 'elsewhere', 'task');
  const r = celistra(['worktree', 'add', 'old', '--base', 'v1', '--path', where, '--json'], repo, s.env);
  assert.equal(r.status, 0, r.stderr);
  const { record } = JSON.parse(r.stdout);
  assert.equal(record.path, where);
  assert.equal(record.baseRef, 'refs/tags/v1');
  assert.equal(record.baseCommit, must('git rev-parse v1', repo, s.env).trim());
  assert.equal(readFileSync(join(where, 'README'), 'utf8'), 'one\n');
  assert.equal(must('git rev-parse --abbrev-ref HEAD', where, s.env), 'agent/old\n');
});

test('.worktreeinclude copies matching untracked files, keeping their mode, and nothing else', () => {
  const s = scratch('add-include');
  const repo = makeRepo(s);
  write(join(repo, '.worktreeinclude'), '.env\nconfig/*.local\n');
  mkdirSync(join(repo, 'config'));
  write(join(repo, '.env'), 'KEY=1\n');
  write(join(repo, 'config', 'db.local'), 'local db\n');
  write(join(repo, 'config', 'other.txt'), 'not listed\n');
  must('chmod 600 .env', repo, s.env);
  const r = celistra(['worktree', 'add', 'inc'], repo, s.env);
  assert.equal(r.status, 0, r.stderr);
  const wt = join(s.root, 'repo-inc');
  assert.equal(readFileSync(join(wt, '.env'), 'utf8'), 'KEY=1\n');
  assert.equal(statSync(join(wt, '.env')).mode & 0o777, 0o600);
  assert.equal(readFileSync(join(wt, 'config', 'db.local'), 'utf8'), 'local db\n');
  assert.ok(!existsSync(join(wt, 'config', 'other.txt')));
  assert.match(r.stderr, /copied \.env/);
  assert.equal(must('git status --porcelain', wt, s.env), '', "copied files are not in the agent's git status");
});

test('a failing setup command is reported with its status and the worktree is kept', () => {
  const s = scratch('add-setup-fail');
  const repo = makeRepo(s);
  write(join(repo, '.celistra.json'), JSON.stringify({ worktree: { setup: 'echo installing; exit 3' } }));
  const r = celistra(['worktree', 'add', 'x'], repo, s.env);
  assert.equal(r.status, 68);
  assert.match(r.stderr, /installing/);
  assert.match(r.stderr, /setup command `echo installing; exit 3` failed \(exit status 3\); the worktree is kept/);
  assert.ok(existsSync(join(s.root, 'repo-x', 'README')));
});

test('a malformed repository config is refused before anything is created', () => {
  const s = scratch('add-bad-config');
  const repo = makeRepo(s);
  write(join(repo, '.celistra.json'), '{ not json');
  const r = celistra(['worktree', 'add', 'x'], repo, s.env);
  assert.equal(r.status, 64, r.stderr);
  assert.match(r.stderr, /\.celistra\.json is not valid JSON/);
  assert.ok(!existsSync(join(s.root, 'repo-x')));
  assert.ok(!existsSync(join(repo, '.git', 'celistra')));
  assert.equal(must('git branch --list agent/x', repo, s.env), '');
});
