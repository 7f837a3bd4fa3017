import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { celistra, makeRepo, must, scratch, write } from './worktree-fixture.js';

// Suppose the agent managed to plant things in its git state (a fence that failed, or
// an agent run with --backend none). Celistra's own host-side git must still run none
// of it: ls, diff, pull and rm name the repository explicitly and override config.

test('host-side git runs no fsmonitor, hook, include or rewritten pointer the agent planted', () => {
  const s = scratch('host-hardening');
  const repo = makeRepo(s);
  assert.equal(celistra(['worktree', 'add', 'a'], repo, s.env).status, 0);
  const wt = join(s.root, 'repo-a');
  const container = join(repo, '.git', 'celistra', 'worktrees', 'a');
  const marker = join(s.root, 'PWNED');
  const evil = `touch ${marker}; false`;
  must('echo task > task.txt && git add task.txt && git commit -qm task && echo wip > wip.txt', wt, s.env);

  // Planted after the commit, as an agent would, in every place git might look.
  const shadow = join(container, 'git');
  const admin = join(container, 'admin');
  must(`git config --file ${shadow}/config core.fsmonitor '${evil}'`, s.root, s.env);
  must(`git config --file ${shadow}/config core.hooksPath ${shadow}/hooks`, s.root, s.env);
  must(`git config --file ${shadow}/config include.path ${admin}/evil.cfg`, s.root, s.env);
  must(`git config --file ${shadow}/config extensions.worktreeConfig true`, s.root, s.env);
  must(`git config --file ${admin}/config.worktree core.fsmonitor '${evil}'`, s.root, s.env);
  must(`git config --file ${admin}/evil.cfg core.fsmonitor '${evil}'`, s.root, s.env);
  for (const hook of ['pre-commit', 'post-commit', 'post-merge', 'post-checkout', 'reference-transaction', 'pre-auto-gc']) {
    write(join(shadow, 'hooks', hook), `#!/bin/sh\n${evil}\n`);
    chmodSync(join(shadow, 'hooks', hook), 0o755);
  }
  // A nested repository in the worktree with its own fsmonitor.
  mkdirSync(join(wt, 'nested'));
  must(`git init -q . && echo n > n && git add n && git commit -qm n && git config core.fsmonitor '${evil}'`, join(wt, 'nested'), s.env);
  // A pointer rewritten to a git dir of the agent's making.
  mkdirSync(join(wt, 'fake-gitdir'));
  must(`git init -q --bare . && git config core.fsmonitor '${evil}'`, join(wt, 'fake-gitdir'), s.env);
  write(join(wt, '.git'), `gitdir: ${join(wt, 'fake-gitdir')}\n`);

  assert.ok(!existsSync(marker), 'the stage itself ran a planted command');

  const ls = celistra(['worktree', 'ls', '--json'], repo, s.env);
  assert.equal(ls.status, 0, ls.stderr);
  const [row] = JSON.parse(ls.stdout);
  assert.deepEqual([row.ahead, row.dirty], [1, true]);
  const diff = celistra(['diff', 'a', '--stat'], repo, s.env);
  assert.equal(diff.status, 0, diff.stderr);
  assert.match(diff.stdout, /task\.txt/);
  assert.match(diff.stdout, /wip\.txt/);
  const pull = celistra(['pull', 'a'], repo, s.env);
  assert.equal(pull.status, 0, pull.stderr);
  assert.equal(must('git log -1 --format=%s', repo, s.env), 'task\n');
  assert.ok(!existsSync(marker), 'ls, diff or pull ran a command planted by the agent');
  const rm = celistra(['worktree', 'rm', 'a', '--force'], repo, s.env);
  assert.equal(rm.status, 0, rm.stderr);
  assert.ok(!existsSync(marker), 'a command planted by the agent ran on the host');
});

test('a harvest rejects a forged object in the agent store', () => {
  const s = scratch('host-forged');
  const repo = makeRepo(s);
  assert.equal(celistra(['worktree', 'add', 'a'], repo, s.env).status, 0);
  const wt = join(s.root, 'repo-a');
  must('echo task > task.txt && git add task.txt && git commit -qm task', wt, s.env);
  // Replace the new blob's loose object with another object's bytes: its id no longer matches.
  const shadowObjects = join(repo, '.git', 'celistra', 'worktrees', 'a', 'git', 'objects');
  const blob = must('git rev-parse HEAD:task.txt', wt, s.env).trim();
  const other = must('echo other | git hash-object -w --stdin', wt, s.env).trim();
  must(`chmod u+w ${shadowObjects}/${blob.slice(0, 2)}/${blob.slice(2)} && cp ${shadowObjects}/${other.slice(0, 2)}/${other.slice(2)} ${shadowObjects}/${blob.slice(0, 2)}/${blob.slice(2)}`, s.root, s.env);
  const refsBefore = must('git for-each-ref', repo, s.env);
  const pull = celistra(['pull', 'a'], repo, s.env);
  assert.notEqual(pull.status, 0, 'a forged object was accepted');
  assert.equal(must('git for-each-ref', repo, s.env), refsBefore);
  assert.equal(must('git status --porcelain', repo, s.env), '');
  assert.notEqual(must(`git cat-file -t ${blob} 2>/dev/null || echo missing`, repo, s.env).trim(), 'blob');
});

test('the user\'s own git status in a task worktree runs nothing of a committed nested repository, and diff, ls and pull show it', () => {
  const s = scratch('host-gitlink');
  const repo = makeRepo(s);
  assert.equal(celistra(['worktree', 'add', 'a'], repo, s.env).status, 0);
  const wt = join(s.root, 'repo-a');
  const marker = join(s.root, 'PWNED');
  // As an agent would: a nested repository with its own fsmonitor, committed as a gitlink.
  mkdirSync(join(wt, 'nested'));
  must(`git init -q . && echo n > n && git add n && git commit -qm n && git config core.fsmonitor 'touch ${marker}; false'`, join(wt, 'nested'), s.env);
  must('git add nested 2>/dev/null && echo t > t.txt && git add t.txt && git commit -qm "add nested"', wt, s.env);
  // (the agent does the above inside its fence, where whatever it runs is fenced)
  rmSync(marker, { force: true });
  // The user, by hand, with default settings: the task's git config (Celistra's) ignores submodules.
  for (const cmd of ['git status', 'git status --short', 'git diff', 'git diff HEAD~1', 'git log -p -1', 'git show --stat']) must(`${cmd} >/dev/null`, wt, s.env);
  assert.equal(existsSync(marker), false, 'host git ran the nested repository\'s fsmonitor');
  const diff = celistra(['diff', 'a'], repo, s.env);
  assert.equal(diff.status, 0, diff.stderr);
  assert.match(diff.stdout, /\+Subproject commit [0-9a-f]{40}/, 'the gitlink is in the diff');
  assert.match(diff.stderr, /holds 1 nested git repository: nested \(gitlink\)/);
  const ls = JSON.parse(celistra(['worktree', 'ls', '--json'], repo, s.env).stdout);
  assert.deepEqual(ls[0].nested, ['nested (gitlink)']);
  const pull = celistra(['pull', 'a'], repo, s.env);
  assert.equal(pull.status, 0, pull.stderr);
  assert.match(pull.stderr, /nested git repository/);
  assert.equal(existsSync(marker), false, 'Celistra\'s own git ran it');
});
