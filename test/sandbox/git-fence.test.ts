import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { celistra, makeRepo, must, scratch, snapshot } from '../worktree-fixture.js';
import { taskWorktreeSkip } from '../support/fence-skip.js';

// Git inside the fence, for real, under each Linux backend (and, through the test
// runner, as root and as the unprivileged celistra-ci): the agent's normal git work
// succeeds, and every write the design forbids fails with the host unchanged.

function stage(label: string) {
  const s = scratch(label);
  const repo = makeRepo(s);
  for (const n of ['a', 'b']) {
    const r = celistra(['worktree', 'add', n], repo, s.env);
    assert.equal(r.status, 0, r.stderr);
  }
  // main moves on after the tasks started, so that `rebase main` has work to do.
  must('echo later > later.txt && git add later.txt && git commit -qm later', repo, s.env);
  // A plain worktree whose directory is gone: `git worktree prune` would delete its admin dir.
  must(`git worktree add -q ${join(s.root, 'gone')} -b gone && rm -rf ${join(s.root, 'gone')}`, repo, s.env);
  const c = (n: string) => join(repo, '.git', 'celistra', 'worktrees', n);
  return { s, repo, wtA: join(s.root, 'repo-a'), wtB: join(s.root, 'repo-b'), shadowA: join(c('a'), 'git'), adminA: join(c('a'), 'admin'), containerA: c('a'), adminB: join(c('b'), 'admin'), shadowB: join(c('b'), 'git') };
}

for (const backend of ['bwrap', 'landlock'] as const) {
  const skip = taskWorktreeSkip(backend);

  test(`${backend}: the agent can status, diff, log main, add, commit, amend, stash, branch, switch, rebase and gc in its worktree`, { skip }, () => {
    const st = stage(`gitok-${backend}`);
    const mainBefore = must('git for-each-ref --format="%(objectname) %(refname)"', st.repo, st.s.env);
    const script = [
      'set -e',
      'git status --short',
      'git log --oneline main | grep -q later',
      'echo work > work.txt && git add work.txt && git diff --cached --stat | grep -q work.txt',
      'git commit -qm "agent work"',
      'git commit -q --amend -m "agent work, amended"',
      'echo wip >> README && git stash -q && test "$(git stash list | wc -l)" = 1 && git stash pop -q && git commit -qam "wip kept"',
      'git switch -q -c agent/a-spike && echo spike > spike.txt && git add spike.txt && git commit -qm spike && git switch -q agent/a',
      'git branch -q -D agent/a-spike',
      'git rebase -q main',
      'git gc -q',
      'git log --format=%s -4',
    ].join('\n');
    const r = celistra(['run', '--backend', backend, '--worktree', 'a', '--', 'sh', '-c', script], st.repo, st.s.env);
    assert.equal(r.status, 0, `allowed git work failed under ${backend}: ${r.stderr}`);
    assert.deepEqual(r.stdout.trim().split('\n').slice(-4), ['wip kept', 'agent work, amended', 'later', 'two']);
    assert.equal(must('git for-each-ref --format="%(objectname) %(refname)"', st.repo, st.s.env), mainBefore, 'no ref of the main repository moved');
    const ls = JSON.parse(celistra(['worktree', 'ls', '--json'], st.repo, st.s.env).stdout);
    assert.deepEqual([ls[0].name, ls[0].ahead, ls[0].behind, ls[0].dirty], ['a', 2, 0, false]);
    const pull = celistra(['pull', 'a', '--ff-only'], st.repo, st.s.env);
    assert.equal(pull.status, 0, pull.stderr);
    assert.equal(must('git log -1 --format=%s', st.repo, st.s.env), 'wip kept\n');
  });

  test(`${backend}: every git write outside the agent's own git state fails and the host is unchanged`, { skip }, () => {
    const st = stage(`gitdeny-${backend}`);
    const obj = must('git rev-parse HEAD', st.repo, st.s.env).trim();
    const objPath = join(st.repo, '.git', 'objects', obj.slice(0, 2), obj.slice(2));
    const marker = join(st.s.root, 'pwned');
    const attempts: Record<string, string> = {
      'shadow config (core.fsmonitor)': `git config core.fsmonitor "touch ${marker}"`,
      'shadow config (rename over)': `cp ${st.shadowA}/config /tmp/c 2>/dev/null; echo "[core] fsmonitor = touch ${marker}" > ${st.adminA}/c && mv ${st.adminA}/c ${st.shadowA}/config`,
      'shadow hook': `printf '#!/bin/sh\\ntouch ${marker}\\n' > ${st.shadowA}/hooks/post-commit`,
      'shadow info/attributes': `echo "* diff=x" > ${st.shadowA}/info/attributes`,
      'shadow worktrees (git worktree add inside)': 'git worktree add -q ./inner',
      'shadow alternates': `echo /tmp > ${st.shadowA}/objects/info/alternates`,
      'shadow alternates (rename objects/info away)': `mv ${st.shadowA}/objects/info ${st.shadowA}/objects/info.moved && mkdir ${st.shadowA}/objects/info && echo /etc > ${st.shadowA}/objects/info/alternates`,
      'shadow objects/info (new file)': `echo x > ${st.shadowA}/objects/info/http-alternates`,
      'own .git pointer (write)': 'echo "gitdir: /tmp" > .git',
      'own .git pointer (unlink)': 'rm -f .git',
      'own .git pointer (rename)': 'mv .git .git-moved',
      'own commondir (write)': `echo /tmp > ${st.adminA}/commondir`,
      'own commondir (rename over)': `echo /tmp > ${st.adminA}/x && mv ${st.adminA}/x ${st.adminA}/commondir`,
      'own gitdir (unlink)': `rm ${st.adminA}/gitdir`,
      'own record': `echo {} > ${st.containerA}/worktree.json`,
      'main config': `git config --file ${st.repo}/.git/config core.fsmonitor "touch ${marker}"`,
      'main hooks': `printf '#!/bin/sh\\ntouch ${marker}\\n' > ${st.repo}/.git/hooks/post-commit`,
      'main info/exclude': `echo x >> ${st.repo}/.git/info/exclude`,
      'main packed-refs': `git -C ${st.repo} pack-refs --all`,
      'main ref main': `git -C ${st.repo} update-ref refs/heads/main HEAD~1`,
      'main ref agent/b': `git -C ${st.repo} update-ref refs/heads/agent/b HEAD`,
      'main commit': `git -C ${st.repo} commit -q --allow-empty -m evil`,
      'main worktree add': `git -C ${st.repo} worktree add -q ${st.wtA}/evil`,
      'main worktree prune': `git -C ${st.repo} worktree prune && test ! -e ${st.repo}/.git/worktrees/gone`,
      'main worktree remove': `git -C ${st.repo} worktree remove --force ${st.s.root}/gone`,
      'main checkout file': `echo x >> ${st.repo}/README`,
      'existing object (overwrite)': `chmod u+w ${objPath}; echo x > ${objPath}`,
      'existing object (unlink)': `rm -f ${objPath}`,
      'other worktree file': `echo x >> ${st.wtB}/README`,
      "other worktree's admin HEAD": `echo x > ${st.adminB}/HEAD`,
      "other worktree's index": `echo x > ${st.adminB}/index`,
      "other worktree's commondir": `echo /tmp > ${st.adminB}/commondir`,
      "other agent's branch (its shadow)": `echo ${obj} > ${st.shadowB}/refs/heads/agent/b`,
    };
    const script = Object.entries(attempts)
      .map(([name, cmd]) => `( ${cmd} ) >/dev/null 2>&1; echo "${name}=$?"`)
      .join('\n');
    const ownWritable = (l: string) => !l.startsWith(`${st.shadowA}`) && !l.startsWith(`${st.adminA}`) && !l.startsWith(`${st.wtA}`);
    const carveOuts = [join(st.shadowA, 'config'), join(st.shadowA, 'hooks'), join(st.shadowA, 'info'), join(st.shadowA, 'worktrees'), join(st.shadowA, 'objects', 'info'), join(st.adminA, 'gitdir'), join(st.adminA, 'commondir'), join(st.wtA, '.git')];
    const host = () => [snapshot(st.repo).split('\n').filter(ownWritable).join('\n'), snapshot(st.wtB), snapshot(...carveOuts)].join('\n');
    const before = host();
    const r = celistra(['run', '--backend', backend, '--worktree', 'a', '--', 'sh', '-c', script], st.repo, st.s.env);
    assert.equal(r.status, 0, r.stderr);
    const results = Object.fromEntries(r.stdout.trim().split('\n').map((l) => [l.slice(0, l.lastIndexOf('=')), Number(l.slice(l.lastIndexOf('=') + 1))]));
    for (const name of Object.keys(attempts)) {
      assert.notEqual(results[name], 0, `${backend}: "${name}" succeeded inside the fence`);
    }
    assert.equal(host(), before, `${backend}: the host changed`);
    // The host's own git in the worktree still runs nothing planted.
    assert.equal(celistra(['diff', 'a'], st.repo, st.s.env).status, 0);
    must('git status --short', st.wtA, st.s.env);
    assert.ok(!existsSync(marker), 'a planted command ran');
  });

  test(`${backend}: an object store the agent rebuilt around a moved objects/ is refused by the host`, { skip }, () => {
    const st = stage(`gitobjects-${backend}`);
    // objects/ itself must stay writable for git, so renaming it is allowed inside; what
    // matters is that no host git then reads through the agent's own alternates.
    const script = `cd ${st.shadowA} && mv objects objects.moved && mkdir -p objects/info && echo /etc > objects/info/alternates && cp -r objects.moved/pack objects/`;
    const r = celistra(['run', '--backend', backend, '--worktree', 'a', '--', 'sh', '-c', script], st.repo, st.s.env);
    assert.equal(r.status, 0, `the rename of objects/ is expected to succeed inside the fence: ${r.stderr}`);
    const mainGit = join(st.repo, '.git');
    const before = snapshot(mainGit).split('\n').filter((l) => !l.startsWith(st.containerA)).join('\n');
    for (const args of [['diff', 'a'], ['pull', 'a'], ['run', '--backend', backend, '--worktree', 'a', '--', 'true']]) {
      const host = celistra(args, st.repo, st.s.env);
      assert.equal(host.status, 69, `${args.join(' ')} read through the agent's alternates: ${host.stderr}`);
      assert.match(host.stderr, /tampered with/);
    }
    assert.equal(snapshot(mainGit).split('\n').filter((l) => !l.startsWith(st.containerA)).join('\n'), before, 'the main repository changed');
  });
}
