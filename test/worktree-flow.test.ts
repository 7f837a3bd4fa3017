import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { celistra, makeRepo, must, scratch, write } from './worktree-fixture.js';

test('a new user adds two task worktrees, commits in each under the fence, reviews, pulls both and removes both', () => {
  const s = scratch('flow');
  const repo = makeRepo(s);
  write(join(repo, '.gitignore'), '.env\nsetup-ran\n');
  write(join(repo, '.worktreeinclude'), '.env\n');
  write(join(repo, '.celistra.json'), JSON.stringify({ worktree: { setup: 'echo preparing; date > setup-ran' } }));
  must('git add .gitignore .worktreeinclude .celistra.json && git commit -qm config && echo API_KEY=abc > .env', repo, s.env);

  for (const name of ['a', 'b']) {
    const added = celistra(['worktree', 'add', name], repo, s.env);
    assert.equal(added.status, 0, added.stderr);
    const path = join(s.root, `repo-${name}`);
    assert.equal(added.stdout.trim(), path);
    assert.match(added.stderr, /running setup \(backend (landlock|bwrap)\): echo preparing/);
    assert.match(added.stderr, /preparing/);
    assert.equal(readFileSync(join(path, '.env'), 'utf8'), 'API_KEY=abc\n', '.worktreeinclude files are copied');
    assert.ok(existsSync(join(path, 'setup-ran')), 'the setup command ran in the worktree');
    assert.equal(must(`git rev-parse --verify agent/${name}`, repo, s.env), must('git rev-parse HEAD', repo, s.env));
  }

  const listed = JSON.parse(celistra(['worktree', 'ls', '--json'], repo, s.env).stdout);
  assert.deepEqual(listed.map((w: { name: string; dirty: boolean; ahead: number }) => [w.name, w.dirty, w.ahead]), [['a', false, 0], ['b', false, 0]]);

  for (const name of ['a', 'b']) {
    const ran = celistra(['run', '--worktree', name, '--', 'sh', '-c', `echo ${name} > ${name}.txt && git add ${name}.txt && git commit -qm "task ${name}" && git log --oneline main | wc -l`], repo, s.env);
    assert.equal(ran.status, 0, `commit under the fence failed: ${ran.stderr}`);
    assert.equal(ran.stdout.trim(), '3', "main's history is visible inside the fence");
  }
  write(join(s.root, 'repo-a', 'uncommitted.txt'), 'work in progress\n');

  const after = JSON.parse(celistra(['worktree', 'ls', '--json'], repo, s.env).stdout);
  assert.deepEqual(after.map((w: { name: string; dirty: boolean; ahead: number; unharvested: number }) => [w.name, w.dirty, w.ahead, w.unharvested]), [['a', true, 1, 1], ['b', false, 1, 1]]);

  const stat = celistra(['diff', 'a', '--stat'], repo, s.env);
  assert.equal(stat.status, 0, stat.stderr);
  assert.match(stat.stdout, /a\.txt/);
  assert.match(stat.stdout, /uncommitted\.txt/, 'uncommitted work is part of the diff');
  assert.doesNotMatch(stat.stdout, /\.env|setup-ran/, 'copied-in and ignored files are not the task\'s work');
  const patch = celistra(['diff', 'b'], repo, s.env);
  assert.match(patch.stdout, /\+b\n/);

  must('rm repo-a/uncommitted.txt', s.root, s.env);
  const pullA = celistra(['pull', 'a', '--json'], repo, s.env);
  assert.equal(pullA.status, 0, pullA.stderr);
  assert.equal(JSON.parse(pullA.stdout).outcome, 'fast-forward');
  const pullB = celistra(['pull', 'b', '--json'], repo, s.env);
  assert.equal(pullB.status, 0, pullB.stderr);
  assert.equal(JSON.parse(pullB.stdout).outcome, 'merge-commit');
  assert.equal(readFileSync(join(repo, 'a.txt'), 'utf8'), 'a\n');
  assert.equal(readFileSync(join(repo, 'b.txt'), 'utf8'), 'b\n');
  assert.equal(must('git status --porcelain', repo, s.env), '', 'the main checkout is clean after both pulls');
  assert.equal(must('git fsck --strict --no-dangling 2>&1', repo, s.env), '');

  for (const name of ['a', 'b']) {
    const rm = celistra(['worktree', 'rm', name], repo, s.env);
    assert.equal(rm.status, 0, rm.stderr);
    assert.ok(!existsSync(join(s.root, `repo-${name}`)));
    assert.ok(!existsSync(join(repo, '.git', 'celistra', 'worktrees', name)));
    assert.match(must(`git log --oneline -1 agent/${name}`, repo, s.env), new RegExp(`task ${name}`), 'the branch keeps the commits');
  }
  assert.deepEqual(JSON.parse(celistra(['worktree', 'ls', '--json'], repo, s.env).stdout), []);
});
