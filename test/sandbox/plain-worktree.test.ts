import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { celistra, makeRepo, must, scratch, sh, snapshot } from '../worktree-fixture.js';
import { taskWorktreeSkip } from '../support/fence-skip.js';

// Worktrees made the plain way, as the seed writes them (`git worktree add
// ../repo-task-1 -b agent/task-1 main`), handed to the fence with --workspace: the agent
// commits on its branch, cannot touch the main repository or the sibling, cannot retarget
// its git pointers, and the plain git habits keep working on the host afterwards.

function stage(label: string) {
  const s = scratch(label);
  const repo = makeRepo(s);
  for (const n of ['1', '2']) must(`git worktree add -q ../repo-task-${n} -b agent/task-${n} main`, repo, s.env);
  return { s, repo, wt1: join(s.root, 'repo-task-1'), wt2: join(s.root, 'repo-task-2'), admin1: join(repo, '.git', 'worktrees', 'repo-task-1') };
}

/** Everything of the main repository the agent must not change: refs, config, hooks, info, packed-refs, main's index, the sibling. */
function hostState(st: ReturnType<typeof stage>): string {
  const git = join(st.repo, '.git');
  return [
    must('git for-each-ref --format="%(objectname) %(refname)"', st.repo, st.s.env),
    snapshot(join(git, 'config'), join(git, 'hooks'), join(git, 'info'), join(git, 'refs'), join(git, 'packed-refs'), join(git, 'index'), join(git, 'HEAD'), join(git, 'worktrees', 'repo-task-2'), st.wt2, join(st.repo, 'README')),
  ].join('\n');
}

const COMMIT = 'set -e; echo work > work.txt; git add work.txt; git commit -qm "agent work"; git log --format=%s -1';

for (const backend of ['landlock', 'bwrap'] as const) {
  const skip = taskWorktreeSkip(backend);

  test(`${backend}: an agent commits on its branch in a plain git worktree, and the main repository and the sibling stay unchanged`, { skip }, () => {
    const st = stage(`plain-commit-${backend}`);
    const before = hostState(st);
    const r = celistra(['run', '--backend', backend, '--workspace', st.wt1, '--', 'sh', '-c', COMMIT], st.repo, st.s.env);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), 'agent work');
    assert.match(r.stderr, /was made by `git worktree add`/, 'the adoption is said on stderr');
    assert.equal(hostState(st), before, 'no ref, config, hook or sibling file of the host changed');
    // Host git in the worktree sees the agent's commit and a clean tree.
    assert.equal(must('git log --format=%s -1', st.wt1, st.s.env), 'agent work\n');
    assert.equal(must('git status --porcelain', st.wt1, st.s.env), '');
    const history = JSON.parse(celistra(['history', '--event', 'worktree-adopt', '--json'], st.repo, st.s.env).stdout);
    assert.equal(history.length, 1, 'the adoption is in the audit log');
    // A second run does not adopt again.
    const again = celistra(['run', '--backend', backend, '--workspace', st.wt1, '--', 'git', 'log', '--format=%s', '-1'], st.repo, st.s.env);
    assert.equal(again.status, 0, again.stderr);
    assert.doesNotMatch(again.stderr, /was made by/);
  });

  test(`${backend}: the seed's git fetch brings each task's commit home and git worktree remove still works`, { skip }, () => {
    const st = stage(`plain-fetch-${backend}`);
    // Both tasks commit: main's git then sees two worktrees whose HEADs were made in shadows.
    for (const wt of [st.wt1, st.wt2]) {
      const r = celistra(['run', '--backend', backend, '--workspace', wt, '--', 'sh', '-c', COMMIT], st.repo, st.s.env);
      assert.equal(r.status, 0, r.stderr);
    }
    const fetch = sh('git fetch -q ../repo-task-1 agent/task-1:agent/task-1 && git fetch -q ../repo-task-2 agent/task-2:agent/task-2', st.repo, st.s.env);
    assert.equal(fetch.status, 0, fetch.stderr);
    assert.equal(must('git log --format=%s -1 agent/task-2', st.repo, st.s.env), 'agent work\n');
    assert.equal(must('git log --format=%s -1 agent/task-1', st.repo, st.s.env), 'agent work\n');
    assert.equal(sh('git fsck --no-dangling', st.repo, st.s.env).status, 0, 'the main repository is sound');
    const rm = sh('git worktree remove ../repo-task-1', st.repo, st.s.env);
    assert.equal(rm.status, 0, rm.stderr);
    assert.equal(existsSync(st.wt1), false);
    assert.doesNotMatch(must('git worktree list', st.repo, st.s.env), /repo-task-1/);
    // A new worktree under the same name is adopted afresh once the old commits are home.
    must('git worktree add -q ../repo-task-1 -b agent/task-1b main', st.repo, st.s.env);
    const next = celistra(['run', '--backend', backend, '--workspace', st.wt1, '--', 'sh', '-c', COMMIT], st.repo, st.s.env);
    assert.equal(next.status, 0, next.stderr);
    assert.equal(must('git log --format=%s -1 agent/task-1b', st.wt1, st.s.env), 'agent work\n');
  });

  test(`${backend}: the agent cannot retarget its plain worktree's git pointers, nor write main's git dir`, { skip }, () => {
    const st = stage(`plain-deny-${backend}`);
    // Adopt first, so that the attempts meet the grants a real agent gets.
    assert.equal(celistra(['run', '--backend', backend, '--workspace', st.wt1, '--', 'true'], st.repo, st.s.env).status, 0);
    const marker = join(st.s.root, 'pwned');
    const attempts: Record<string, string> = {
      '.git pointer (write)': 'echo "gitdir: /tmp" > .git',
      '.git pointer (unlink)': 'rm -f .git',
      'admin commondir (write)': `echo ${st.repo}/.git > ${st.admin1}/commondir`,
      'admin commondir (rename over)': `echo ${st.repo}/.git > ${st.admin1}/x && mv ${st.admin1}/x ${st.admin1}/commondir`,
      'admin gitdir (unlink)': `rm ${st.admin1}/gitdir`,
      'main config': `git config --file ${st.repo}/.git/config core.fsmonitor "touch ${marker}"`,
      'main hook': `printf '#!/bin/sh\\ntouch ${marker}\\n' > ${st.repo}/.git/hooks/post-checkout`,
      'main ref': `git --git-dir=${st.repo}/.git update-ref refs/heads/main HEAD`,
      'sibling admin HEAD': `echo "ref: refs/heads/main" > ${st.repo}/.git/worktrees/repo-task-2/HEAD`,
      'sibling file': `echo x > ${st.wt2}/README`,
    };
    const pointers = snapshot(join(st.wt1, '.git'), join(st.admin1, 'gitdir'), join(st.admin1, 'commondir'));
    const before = hostState(st);
    for (const [what, script] of Object.entries(attempts)) {
      const r = celistra(['run', '--backend', backend, '--workspace', st.wt1, '--', 'sh', '-c', script], st.repo, st.s.env);
      assert.notEqual(r.status, 0, `${what} succeeded under ${backend}`);
    }
    assert.equal(snapshot(join(st.wt1, '.git'), join(st.admin1, 'gitdir'), join(st.admin1, 'commondir')), pointers, 'pointers unchanged');
    assert.equal(hostState(st), before, 'host unchanged');
    assert.equal(existsSync(marker), false);
  });
}

test('worktree release gives the worktree back to plain git with the agent\'s commit on its branch', (t) => {
  const backend = !taskWorktreeSkip('landlock') ? 'landlock' : !taskWorktreeSkip('bwrap') ? 'bwrap' : undefined;
  if (!backend) return t.skip('no Linux backend fences a task worktree here');
  const st = stage('plain-release');
  const r = celistra(['run', '--backend', backend, '--workspace', st.wt1, '--', 'sh', '-c', COMMIT], st.repo, st.s.env);
  assert.equal(r.status, 0, r.stderr);
  const rel = celistra(['worktree', 'release', 'repo-task-1', '--json'], st.repo, st.s.env);
  assert.equal(rel.status, 0, rel.stderr);
  assert.equal(JSON.parse(rel.stdout).branch, 'agent/task-1');
  assert.equal(readFileSync(join(st.admin1, 'commondir'), 'utf8').trim(), '../..');
  assert.equal(readFileSync(join(st.admin1, 'HEAD'), 'utf8').trim(), 'ref: refs/heads/agent/task-1');
  assert.equal(must('git log --format=%s -1 agent/task-1', st.repo, st.s.env), 'agent work\n');
  assert.equal(must('git status --porcelain', st.wt1, st.s.env), '');
  assert.equal(existsSync(join(st.repo, '.git', 'celistra', 'worktrees', 'repo-task-1')), false);
});

test('an agent that leaves HEAD detached on a commit of its own does not break git in the main checkout', (t) => {
  const backend = !taskWorktreeSkip('landlock') ? 'landlock' : !taskWorktreeSkip('bwrap') ? 'bwrap' : undefined;
  if (!backend) return t.skip('no Linux backend fences a task worktree here');
  const st = stage('plain-detached');
  const r = celistra(['run', '--backend', backend, '--workspace', st.wt1, '--', 'sh', '-c', `${COMMIT}; git checkout -q --detach HEAD`], st.repo, st.s.env);
  assert.equal(r.status, 0, r.stderr);
  for (const cmd of ['git rev-list --all', 'git fsck --connectivity-only', 'git gc -q']) {
    const g = sh(cmd, st.repo, st.s.env);
    assert.equal(g.status, 0, `${cmd}: ${g.stderr}`);
  }
});

test('a commit the agent reset away leaves no invalid reflog entry for git fsck or gc in the main checkout', (t) => {
  const backend = !taskWorktreeSkip('landlock') ? 'landlock' : !taskWorktreeSkip('bwrap') ? 'bwrap' : undefined;
  if (!backend) return t.skip(`no Linux backend fences a task worktree here: ${taskWorktreeSkip('landlock')}; ${taskWorktreeSkip('bwrap')}`);
  const st = stage('plain-reflog');
  // The worktree's HEAD reflog (in git's admin dir, which main's fsck walks) names a commit
  // that no branch keeps: it exists only in the task's shadow store unless imported.
  const r = celistra(['run', '--backend', backend, '--workspace', st.wt1, '--', 'sh', '-c', `${COMMIT} && echo gone > gone.txt && git add gone.txt && git commit -qm gone && git reset -q --hard HEAD~1`], st.repo, st.s.env);
  assert.equal(r.status, 0, r.stderr);
  const fsck = sh('git fsck --no-dangling', st.repo, st.s.env);
  assert.equal(fsck.status, 0, fsck.stderr);
  assert.doesNotMatch(fsck.stdout + fsck.stderr, /invalid reflog entry/);
  const gc = sh('git gc -q', st.repo, st.s.env);
  assert.doesNotMatch(gc.stderr, /references pruned commits/);
});
