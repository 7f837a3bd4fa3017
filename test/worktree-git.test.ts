import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gitGrantsFor, recordedWorktree } from '../src/worktree/grants.js';
import { mirrorMainRefs } from '../src/worktree/shadow.js';
import { layoutOf } from '../src/worktree/record.js';
import { buildPolicy } from '../src/policy/policy.js';
import { celistraPaths } from '../src/policy/paths.js';
import { celistra, makeRepo, must, scratch, write } from './worktree-fixture.js';

function withTask() {
  const s = scratch('grants');
  const repo = makeRepo(s);
  assert.equal(celistra(['worktree', 'add', 'a'], repo, s.env).status, 0);
  const container = join(repo, '.git', 'celistra', 'worktrees', 'a');
  return { s, repo, wt: join(s.root, 'repo-a'), shadow: join(container, 'git'), admin: join(container, 'admin') };
}

test('a task worktree gets its admin dir and shadow as writable roots, with the git plumbing carved out read-only', () => {
  const { repo, wt, shadow, admin } = withTask();
  const g = gitGrantsFor(wt);
  assert.ok(g);
  assert.equal(g.mechanism, 'shadow-common-dir');
  assert.equal(g.branch, 'agent/a');
  assert.equal(g.commonDir, join(repo, '.git'));
  assert.deepEqual(g.writableRoots, [admin, shadow]);
  assert.deepEqual(g.readOnlyPaths.sort(), [
    join(wt, '.git'),
    join(admin, 'gitdir'),
    join(admin, 'commondir'),
    join(shadow, 'config'),
    join(shadow, 'hooks'),
    join(shadow, 'info'),
    join(shadow, 'worktrees'),
    join(shadow, 'objects', 'info'),
  ].sort());
  // A carve-out under a writable parent is undone by renaming the parent: each must be a
  // direct child of a writable root, the one exception being objects/info (checked by the host).
  for (const p of g.readOnlyPaths) {
    const parent = join(p, '..');
    const direct = [...g.writableRoots, wt].includes(parent);
    assert.ok(direct || p === join(shadow, 'objects', 'info'), `${p} is nested below a writable directory`);
  }
  assert.deepEqual(g.env, {});
  for (const root of g.writableRoots) assert.ok(!root.startsWith(join(repo, '.git', 'objects')) && root !== join(repo, '.git'), 'nothing shared is writable');
});

test('the grants flow into the policy as writable roots and read-only carve-outs', () => {
  const { s, wt, shadow } = withTask();
  const tmp = join(s.root, 'tmp');
  mkdirSync(tmp);
  const paths = celistraPaths(s.env);
  const p = buildPolicy({ workspace: wt, tmpDir: tmp, paths, git: gitGrantsFor(wt) });
  assert.ok(p.writableRoots.includes(shadow));
  assert.ok(p.readOnlyPaths.includes(join(wt, '.git')));
  assert.equal(p.git?.branch, 'agent/a');
});

test('directories that are not Celistra task worktrees get no git grants', () => {
  const { s, repo, wt } = withTask();
  assert.equal(gitGrantsFor(repo), undefined, 'the main checkout');
  assert.equal(gitGrantsFor(s.root), undefined, 'a plain directory');
  assert.equal(gitGrantsFor(join(s.root, 'missing')), undefined, 'a missing directory');
  must(`git worktree add -q --detach ${join(s.root, 'plain-wt')}`, repo, s.env);
  assert.equal(gitGrantsFor(join(s.root, 'plain-wt')), undefined, 'a worktree made by git worktree add on a detached HEAD');
  // A directory whose .git file points at task a's git dir is not task a.
  const forged = join(s.root, 'forged');
  mkdirSync(forged);
  write(join(forged, '.git'), readFileSync(join(wt, '.git'), 'utf8'));
  assert.equal(gitGrantsFor(forged), undefined, 'a forged pointer');
});

test('a worktree made by git worktree add on a branch is adopted: its admin dir and a shadow of its own are writable, main\'s git dir is not', () => {
  const { s, repo } = withTask();
  const wt = join(s.root, 'repo-task-1');
  must(`git worktree add -q ${wt} -b agent/task-1`, repo, s.env);
  const adopted: string[] = [];
  const grants = gitGrantsFor(wt, (record) => adopted.push(record.name));
  assert.deepEqual(adopted, ['repo-task-1']);
  const admin = join(repo, '.git', 'worktrees', 'repo-task-1');
  const shadow = join(repo, '.git', 'celistra', 'worktrees', 'repo-task-1', 'git');
  assert.deepEqual(grants?.writableRoots, [admin, shadow]);
  assert.ok(grants?.readOnlyPaths.includes(join(wt, '.git')) && grants.readOnlyPaths.includes(join(admin, 'commondir')) && grants.readOnlyPaths.includes(join(admin, 'gitdir')));
  assert.equal(readFileSync(join(admin, 'commondir'), 'utf8').trim(), shadow);
  assert.equal(grants?.branch, 'agent/task-1');
  // The second look finds the same adoption and says nothing.
  assert.deepEqual(gitGrantsFor(wt, (record) => adopted.push(record.name))?.writableRoots, [admin, shadow]);
  assert.equal(adopted.length, 1);
});

test('the grants refresh the view of main inside the shadow, replacing the agent\'s own moves of it', () => {
  const { s, repo, wt, shadow } = withTask();
  must('git update-ref refs/heads/main HEAD~1', wt, s.env);
  must('echo three >> README && git commit -qam three', repo, s.env);
  gitGrantsFor(wt);
  assert.equal(must('git rev-parse main', wt, s.env), must('git rev-parse main', repo, s.env));
  assert.match(readFileSync(join(shadow, 'packed-refs'), 'utf8'), /refs\/heads\/main/);
  assert.equal(must('git rev-parse agent/a', wt, s.env), must('git rev-parse main~1', repo, s.env), 'the task branch itself is left alone');
});

test('refreshing the view of main deletes nothing through a symlink the agent put in its refs', () => {
  const { s, wt, shadow } = withTask();
  const outside = join(s.root, 'outside');
  mkdirSync(join(outside, 'heads'), { recursive: true });
  write(join(outside, 'heads', 'main'), 'precious\n');
  must(`mv ${shadow}/refs ${shadow}/refs.real && ln -s ${outside} ${shadow}/refs`, s.root, s.env);
  // The pins scan, which runs first, refuses a link to a directory in the git state (git
  // would list refs there): the run is refused before anything is refreshed.
  assert.throws(() => gitGrantsFor(wt), /refs is a link \(to ".*outside"\) that leads to a directory/);
  assert.equal(readFileSync(join(outside, 'heads', 'main'), 'utf8'), 'precious\n');
  // The refresh itself, reached some other way, still deletes nothing through the link.
  const found = recordedWorktree(wt);
  assert.ok(found);
  mirrorMainRefs(layoutOf(found.record), { top: found.record.repo, commonDir: found.record.commonDir }, found.record.branch);
  assert.equal(readFileSync(join(outside, 'heads', 'main'), 'utf8'), 'precious\n');
});
