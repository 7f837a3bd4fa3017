import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { alternatesList, git, gitEnvironment, gitTry } from '../src/worktree/git.js';
import { makeRepo, must, scratch, write } from './worktree-fixture.js';

test('host git runs no fsmonitor and no hook that a repository config or hooks dir names', () => {
  const s = scratch('git-runner');
  const repo = makeRepo(s);
  const marker = join(s.root, 'ran');
  must(`git config core.fsmonitor 'touch ${marker}-fsmonitor; false'`, repo, s.env);
  for (const hook of ['pre-commit', 'commit-msg', 'post-commit', 'reference-transaction']) {
    write(join(repo, '.git', 'hooks', hook), `#!/bin/sh\ntouch ${marker}-${hook}\n`);
    chmodSync(join(repo, '.git', 'hooks', hook), 0o755);
  }
  write(join(repo, 'new.txt'), 'x\n');
  const opts = { cwd: repo, gitDir: join(repo, '.git'), workTree: repo, env: s.env };
  assert.match(git(['status', '--porcelain'], opts), /\?\? new\.txt/);
  git(['add', 'new.txt'], opts);
  git(['commit', '-qm', 'host commit'], opts);
  for (const what of ['fsmonitor', 'pre-commit', 'commit-msg', 'post-commit', 'reference-transaction']) {
    assert.ok(!existsSync(`${marker}-${what}`), `${what} ran`);
  }
  assert.equal(git(['log', '-1', '--format=%s'], opts), 'host commit\n');
});

test('inherited GIT_* variables do not redirect host git; identity variables are kept', () => {
  const saved = { ...process.env };
  try {
    process.env.GIT_DIR = '/nonexistent';
    process.env.GIT_CONFIG_PARAMETERS = "'core.hooksPath=/tmp/evil'";
    process.env.GIT_AUTHOR_NAME = 'Kept Author';
    const env = gitEnvironment({ gitDir: '/repo/.git' });
    assert.equal(env.GIT_DIR, '/repo/.git');
    assert.equal(env.GIT_CONFIG_PARAMETERS, undefined);
    assert.equal(env.GIT_AUTHOR_NAME, 'Kept Author');
    assert.equal(env.GIT_OPTIONAL_LOCKS, '0');
    const s = scratch('git-env');
    const repo = makeRepo(s);
    assert.equal(gitTry(['rev-parse', '--is-inside-work-tree'], { cwd: repo }).stdout.trim(), 'true');
  } finally {
    process.env = saved;
  }
});

test('a failing git call becomes a clear E_GIT error', () => {
  const s = scratch('git-error');
  assert.throws(() => git(['rev-parse', 'HEAD'], { cwd: s.root }), (e: Error & { code?: string }) => e.code === 'E_GIT' && /not a git repository/.test(e.message));
});

test('alternate object dirs with colons or quotes are C-quoted', () => {
  assert.equal(alternatesList(['/a/objects', '/b:c/objects', '/d"e/objects']), '/a/objects:"/b:c/objects":"/d\\"e/objects"');
});
