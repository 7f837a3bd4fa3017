import { test as nodeTest, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { celistra, CLI, makeRepo, must, scratch, sh, type Scratch } from '../worktree-fixture.js';
import { anyTaskWorktreeSkip } from '../support/fence-skip.js';

/** Every test here fences a task worktree: where no backend can, each skips saying why. */
const skip = anyTaskWorktreeSkip();
const test = (name: string, fn: (t: TestContext) => void) => nodeTest(name, { skip }, fn);

// What the agent leaves in its own git state (the index, a half-done rebase) must not make
// the user's plain git in the task worktree run a program of the agent's: gitlinks are
// marked skip-worktree after the run, and rebase state that would run a program is moved
// into the host-owned quarantine (src/worktree/host-git-guard.ts).

interface Stage {
  s: Scratch;
  repo: string;
  wt: string;
  marker: string;
  container: string;
}

function stage(label: string): Stage {
  const s = scratch(label);
  const repo = makeRepo(s);
  assert.equal(celistra(['worktree', 'add', 'a'], repo, s.env).status, 0);
  s.env.GIT_EDITOR = 'true';
  return { s, repo, wt: join(s.root, 'repo-a'), marker: join(s.root, 'PWNED'), container: join(repo, '.git', 'celistra', 'worktrees', 'a') };
}

function fenced(t: Stage, script: string): void {
  const r = celistra(['run', '--worktree', 'a', '--', 'sh', '-c', script], t.repo, t.s.env);
  assert.equal(r.status, 0, `the agent's own steps failed: ${r.stderr}`);
}

/** A committed gitlink at `path` whose nested repository runs the marker from its fsmonitor and its clean filter. */
function gitlinkScript(marker: string, path: string): string {
  return [
    `git init -q ${path}`,
    `(cd ${path} && echo n > n && git add n && git commit -qm n)`,
    // Only a gitlink changes: the task config's diff.ignoreSubmodules=all would call that "nothing to commit".
    `git add ${path} 2>/dev/null && git -c diff.ignoreSubmodules=none commit -qm gitlink`,
    `(cd ${path} && git config core.fsmonitor 'touch ${marker}; false' && git config filter.x.clean 'touch ${marker}; cat' && echo '* filter=x' > .gitattributes && touch -d 2001-01-01 n)`,
  ].join(' && ');
}

test('your git add -A / -u / . / commit -a / stash never enter a gitlink the agent checked out (no .gitmodules needed)', () => {
  const t = stage('guard-gitlink');
  fenced(t, gitlinkScript(t.marker, 'nested'));
  for (const cmd of ['git add -A', 'git add -u', 'git add .', 'git add nested', 'git commit -qam wip', 'git stash', 'git stash pop', 'git stash -u', 'git stash pop', 'git checkout .', 'git reset -q']) {
    must(`echo "$RANDOM" >> README && ${cmd} >/dev/null 2>&1 || true`, t.wt, t.s.env);
    assert.equal(existsSync(t.marker), false, `\`${cmd}\` ran the nested repository's program on the host`);
  }
  assert.match(must('git ls-files -t --stage nested', t.wt, t.s.env), /^S 160000 /, 'the gitlink is skip-worktree in the task index');
  // An agent that means to record a new commit of its submodule says so by its id (the mark stays).
  fenced(t, `(cd nested && echo m > m && git add m && git -c core.fsmonitor=false commit -qm m) && git update-index --cacheinfo 160000,$(git -C nested rev-parse HEAD),nested && git -c diff.ignoreSubmodules=none commit -qm bump`);
  rmSync(t.marker, { force: true });
  const diff = celistra(['diff', 'a', '--stat'], t.repo, t.s.env);
  assert.equal(diff.status, 0, diff.stderr);
  assert.match(diff.stdout, /nested/, 'celistra diff still shows the gitlink the task changed');
  must('echo more >> README && git add -A >/dev/null 2>&1 || true', t.wt, t.s.env);
  assert.equal(existsSync(t.marker), false, 'after the agent re-staged the gitlink, it was marked again');
});

test('a gitlink that enters the index anew through your own git (checkout, reset, stash apply, add of an embedded repo) is marked at once', () => {
  const t = stage('guard-gitlink-chain');
  // HEAD~1 has the gitlink, HEAD does not; the nested repository stays checked out.
  fenced(t, `${gitlinkScript(t.marker, 'nested')} && git rm -q --sparse --cached nested && git -c diff.ignoreSubmodules=none commit -qm 'drop gitlink' && git init -q embedded && (cd embedded && echo e > e && git add e && git commit -qm e && git config core.fsmonitor 'touch ${t.marker}; false')`);
  for (const cmd of ['git checkout -q HEAD~1', 'git checkout -q -', 'git reset -q HEAD~1', 'git reset -q --hard ORIG_HEAD', 'git add .', 'git stash -q', 'git stash apply -q', 'git restore --staged -q --source=HEAD~1 nested']) {
    must(`${cmd} >/dev/null 2>&1 || true; echo "$RANDOM" >> README; git add -A >/dev/null 2>&1; git stash -q >/dev/null 2>&1; git stash pop -q >/dev/null 2>&1 || true`, t.wt, t.s.env);
    assert.equal(existsSync(t.marker), false, `\`${cmd}\` then git add -A / stash ran a nested repository's program on the host`);
  }
});

test('an index left behind that Celistra cannot guard (a link) is moved to the quarantine, and ls says so', () => {
  const t = stage('guard-index-link');
  fenced(t, gitlinkScript(t.marker, 'nested'));
  // As if a run was killed before its after-step: the index is a link to an unguarded copy.
  const admin = join(t.container, 'admin');
  must(`git update-index --no-skip-worktree nested && mv ${admin}/index ${admin}/real && ln -s real ${admin}/index`, t.wt, t.s.env);
  const ls = celistra(['worktree', 'ls', '--json'], t.repo, t.s.env);
  assert.equal(ls.status, 0, ls.stderr);
  must('echo more >> README && git add -A >/dev/null 2>&1 || true', t.wt, t.s.env);
  assert.equal(existsSync(t.marker), false, 'git add -A entered the gitlink');
  const guard = JSON.parse(ls.stdout)[0].gitGuard;
  assert.equal(guard.quarantined[0]?.state, 'index', ls.stdout);
  assert.match(ls.stderr, /its index .*not a regular file \(a symbolic link\).*moved to /);
});

/** The agent starts an interactive rebase that stops at once (`break`), with `extra` lines put first. */
function halfDoneRebase(extra: string): string {
  return `for i in 1 2; do echo $i > f$i && git add f$i && git commit -qm c$i; done && GIT_SEQUENCE_EDITOR="sed -i '1i break'" git rebase -q -i HEAD~2 && ${extra}`;
}

test('a half-done rebase whose todo list has exec lines is moved aside: your git rebase --continue runs nothing', () => {
  const t = stage('guard-rebase-exec');
  fenced(t, halfDoneRebase(`sed -i '1i exec touch ${t.marker}' "$(git rev-parse --git-path rebase-merge)/git-rebase-todo"`));
  for (const cmd of ['git rebase --continue', 'git rebase --skip', 'git commit -q --allow-empty -m x', 'git status']) {
    must(`${cmd} >/dev/null 2>&1 || true`, t.wt, t.s.env);
    assert.equal(existsSync(t.marker), false, `\`${cmd}\` ran the agent's exec line on the host`);
  }
  assert.equal(existsSync(join(t.container, 'admin', 'rebase-merge')), false, 'the rebase state is still in the admin dir');
  const q = readdirSync(join(t.container, 'quarantine'));
  assert.equal(q.length, 1);
  assert.ok(existsSync(join(t.container, 'quarantine', q[0]!, 'rebase-merge', 'git-rebase-todo')), 'the todo list is kept in the quarantine');
  const history = celistra(['history', '--event', 'git-guard'], t.repo, t.s.env);
  assert.match(history.stdout, /\sa\s+git-guard\s+.*"quarantined":\[\{"movedTo":".*quarantine/, `the move is in the audit log: ${history.stdout}${history.stderr}`);
});

test('a rebase state naming an outside merge strategy, or a cherry-pick whose opts name one, is moved aside; found by ls after a killed run', () => {
  const t = stage('guard-strategy');
  // Written without a fenced run (as if it was killed before its after-step): ls finds it.
  // The picks are put in reverse order, so that git merges (a pick onto its own parent is a fast-forward).
  const todo = '"$(git rev-parse --git-path rebase-merge)/git-rebase-todo"';
  must(halfDoneRebase(`echo evil > "$(git rev-parse --git-path rebase-merge)/strategy" && grep '^pick' ${todo} | tac > ../todo && mv ../todo ${todo}`), t.wt, t.s.env);
  const ls = celistra(['worktree', 'ls', '--json'], t.repo, t.s.env);
  assert.equal(ls.status, 0, ls.stderr);
  // The program git would run, where a PATH entry of "." would find it.
  must(`printf '#!/bin/sh\\ntouch ${t.marker}\\n' > git-merge-evil && chmod +x git-merge-evil && PATH=.:$PATH git rebase --continue >/dev/null 2>&1 || true`, t.wt, t.s.env);
  assert.equal(existsSync(t.marker), false, 'git rebase --continue ran the strategy program the agent named');
  const guard = JSON.parse(ls.stdout)[0].gitGuard;
  assert.equal(guard.quarantined[0]?.state, 'rebase-merge');
  assert.match(guard.quarantined[0]?.reasons.join(' '), /git-merge-evil/);
  assert.match(ls.stderr, /moved to .*quarantine.* put it back: mv /);
  const seq = join(t.container, 'admin', 'sequencer');
  must(`mkdir -p ${seq} && printf '[options]\\n\\tstrategy = evil\\n' > ${seq}/opts && echo "pick $(git rev-parse HEAD) x" > ${seq}/todo`, t.wt, t.s.env);
  const diff = celistra(['diff', 'a', '--stat'], t.repo, t.s.env);
  assert.equal(diff.status, 0, diff.stderr);
  assert.match(diff.stderr, /sequencer would run a program/);
  assert.equal(existsSync(seq), false);
});

test('a rebase state moved aside by a command the pins scan then refuses is still told, with how to put it back', () => {
  const t = stage('guard-then-refusal');
  // Both written as if a run was killed before its after-step: a rebase naming an outside
  // strategy (the guard moves it aside) and a refs dir linked elsewhere (the pins scan
  // refuses). The guard runs first, so the command that refuses has moved the rebase.
  const todo = '"$(git rev-parse --git-path rebase-merge)/git-rebase-todo"';
  must(halfDoneRebase(`echo evil > "$(git rev-parse --git-path rebase-merge)/strategy" && grep '^pick' ${todo} | tac > ../todo && mv ../todo ${todo}`), t.wt, t.s.env);
  const tags = join(t.container, 'git', 'refs', 'tags');
  must(`mv ${tags} ${t.s.root}/tags-elsewhere && ln -s ${t.s.root}/tags-elsewhere ${tags}`, t.s.root, t.s.env);
  const ls = celistra(['worktree', 'ls'], t.repo, t.s.env);
  assert.equal(ls.status, 69, ls.stderr);
  assert.match(ls.stderr, /cannot be checked for submodule names/);
  assert.equal(existsSync(join(t.container, 'admin', 'rebase-merge')), false, 'the guard did not move the rebase state');
  assert.match(ls.stderr, /moved to .*quarantine.* put it back: mv /, 'the refusal hid where the rebase state went');
});

test('a half-done rebase with only pick lines is left alone and your git rebase --continue finishes it', () => {
  const t = stage('guard-rebase-picks');
  fenced(t, halfDoneRebase('true'));
  assert.ok(existsSync(join(t.container, 'admin', 'rebase-merge')), 'a pick-only rebase was moved aside');
  assert.equal(existsSync(join(t.container, 'quarantine')), false);
  must('git rebase --continue', t.wt, t.s.env);
  assert.match(must('git status', t.wt, t.s.env), /On branch agent\/a/);
});

test('a split index (which Celistra cannot rewrite on a copy) is moved to the quarantine after the run', () => {
  const t = stage('guard-split-index');
  fenced(t, `${gitlinkScript(t.marker, 'nested')} && git update-index --no-skip-worktree nested && git update-index --split-index`);
  must('echo more >> README && git add -A >/dev/null 2>&1; git stash >/dev/null 2>&1 || true', t.wt, t.s.env);
  assert.equal(existsSync(t.marker), false, 'git add -A or stash entered the gitlink');
  const quarantine = join(t.container, 'quarantine');
  assert.ok(existsSync(quarantine) && readdirSync(quarantine).some((d) => existsSync(join(quarantine, d, 'index'))), 'the split index was not moved to the quarantine');
});

test('a strategy git reads differently than it looks ("ort " with a trailing blank, an empty one) is moved aside: git would run git-merge-"ort " / git-merge-', () => {
  const t = stage('guard-strategy-blank');
  const todo = '"$(git rev-parse --git-path rebase-merge)/git-rebase-todo"';
  const strategyFile = '"$(git rev-parse --git-path rebase-merge)/strategy"';
  const program = (name: string) => `printf '#!/bin/sh\\ntouch ${t.marker}\\n' > '${name}' && chmod +x '${name}'`;
  for (const strategy of ['ort ', '']) {
    // Written without a fenced run (as if it was killed before its after-step): ls finds it.
    must(halfDoneRebase(`printf '%s\\n' '${strategy}' > ${strategyFile} && grep '^pick' ${todo} | tac > ../todo && mv ../todo ${todo}`), t.wt, t.s.env);
    const ls = celistra(['worktree', 'ls', '--json'], t.repo, t.s.env);
    assert.equal(ls.status, 0, ls.stderr);
    must(`${program(`git-merge-${strategy}`)} && PATH=.:$PATH git rebase --continue >/dev/null 2>&1 || true`, t.wt, t.s.env);
    assert.equal(existsSync(t.marker), false, `git rebase --continue ran git-merge-${JSON.stringify(strategy)} from the strategy the agent named`);
    assert.match(JSON.parse(ls.stdout)[0].gitGuard.quarantined[0]?.reasons.join(' ') ?? '', /merge strategy/, ls.stdout);
    must(`git rebase --abort >/dev/null 2>&1; rm -f 'git-merge-${strategy}'; git checkout -qf agent/a && git rm -q f1 f2 && git commit -qm again`, t.wt, t.s.env);
  }
  // The same in a cherry-pick's opts (a config file), where a quoted value keeps its blank.
  const seq = join(t.container, 'admin', 'sequencer');
  must(`mkdir -p ${seq} && printf '[options]\\n\\tstrategy = "ort "\\n' > ${seq}/opts && echo "pick $(git rev-parse HEAD) x" > ${seq}/todo`, t.wt, t.s.env);
  const diff = celistra(['diff', 'a', '--stat'], t.repo, t.s.env);
  assert.equal(diff.status, 0, diff.stderr);
  assert.equal(existsSync(seq), false, `a sequencer naming "ort " was left: ${diff.stderr}`);
});

test('a half-done rebase or cherry-pick that asks to sign (gpg_sign_opt, options.gpg-sign) is moved aside: your gpg does not sign the agent\'s commits with the key it names', () => {
  const t = stage('guard-gpg-sign');
  const signer = join(t.s.root, 'gpg');
  must(`printf '#!/bin/sh\\ntouch ${t.marker}\\nexit 1\\n' > ${signer} && chmod +x ${signer}`, t.wt, t.s.env);
  // The picks in reverse order, so that git makes new commits (a pick onto its own parent is a fast-forward).
  const todo = '"$(git rev-parse --git-path rebase-merge)/git-rebase-todo"';
  fenced(t, halfDoneRebase(`echo -SDEADBEEFCAFE > "$(git rev-parse --git-path rebase-merge)/gpg_sign_opt" && grep '^pick' ${todo} | tac > ${todo}.new && mv ${todo}.new ${todo}`));
  must(`git -c gpg.program=${signer} rebase --continue >/dev/null 2>&1 || true`, t.wt, t.s.env);
  assert.equal(existsSync(t.marker), false, 'git rebase --continue signed the agent\'s commits with the key it named');
  assert.equal(existsSync(join(t.container, 'admin', 'rebase-merge')), false, 'the signing rebase is still in the admin dir');
  const seq = join(t.container, 'admin', 'sequencer');
  must(`mkdir -p ${seq} && printf '[options]\\n\\tgpg-sign = DEADBEEFCAFE\\n' > ${seq}/opts && echo "pick $(git rev-parse HEAD) x" > ${seq}/todo`, t.wt, t.s.env);
  const ls = celistra(['worktree', 'ls'], t.repo, t.s.env);
  assert.equal(ls.status, 0, ls.stderr);
  assert.match(ls.stderr, /its sequencer would .*sign the agent's commits/);
  assert.equal(existsSync(seq), false);
});

test('an rr-cache the agent plants in its shadow does not settle the conflicts of your own merge there (rerere is off in the task config)', () => {
  const t = stage('guard-rerere');
  // The agent records a resolution of README's conflict with branch x, then undoes the merge.
  fenced(t, [
    'git checkout -qb x && echo theirs > README && git commit -qam x && git checkout -q agent/a',
    'echo ours > README && git commit -qam ours',
    'git -c rerere.enabled=true merge -q x >/dev/null 2>&1; echo AGENT-RESOLUTION > README && git add README && git -c rerere.enabled=true commit -qm merged',
    'git reset -q --hard HEAD~1',
  ].join(' && '));
  assert.ok(existsSync(join(t.container, 'git', 'rr-cache')), 'the agent could not plant its rr-cache (the test proves nothing)');
  const merge = sh('git merge x', t.wt, t.s.env);
  assert.notEqual(merge.status, 0, 'the merge had no conflict to settle');
  assert.doesNotMatch(merge.stdout + merge.stderr, /previous resolution/, 'rerere ran on the agent\'s rr-cache in your merge');
  assert.doesNotMatch(readFileSync(join(t.wt, 'README'), 'utf8'), /AGENT-RESOLUTION/, 'your merge took the agent\'s resolution');
});

test('a bisect state whose BISECT_START is an option is moved aside: your git bisect reset keeps your uncommitted changes', () => {
  const t = stage('guard-bisect');
  fenced(t, 'git bisect start >/dev/null && printf -- "-f\\n" > "$(git rev-parse --git-path BISECT_START)"');
  must('echo "work of yours" > README', t.wt, t.s.env);
  must('git bisect reset >/dev/null 2>&1 || true; git bisect start >/dev/null 2>&1; git bisect reset >/dev/null 2>&1 || true', t.wt, t.s.env);
  assert.equal(readFileSync(join(t.wt, 'README'), 'utf8'), 'work of yours\n', 'git bisect reset threw away your uncommitted change (git checkout -f)');
  const q = readdirSync(join(t.container, 'quarantine'));
  assert.ok(q.some((d) => existsSync(join(t.container, 'quarantine', d, 'BISECT_START'))), 'BISECT_START is not in the quarantine');
});

test('with core.splitIndex in your main config, the index Celistra marks stays whole: your git in the task worktree still reads it, and the main .git gains no shared index', () => {
  const t = stage('guard-split-config');
  must('git config core.splitIndex true && git status >/dev/null', t.repo, t.s.env);
  const shared = () => readdirSync(join(t.repo, '.git')).filter((n) => n.startsWith('sharedindex.')).sort();
  const before = shared();
  fenced(t, `${gitlinkScript(t.marker, 'nested')} && git -c core.hooksPath=/dev/null update-index --no-skip-worktree nested`);
  const status = sh('git status --short', t.wt, t.s.env);
  assert.equal(status.status, 0, `your git cannot read the task index Celistra wrote: ${status.stderr}`);
  assert.match(must('git ls-files -t --stage nested', t.wt, t.s.env), /^S 160000 /, 'the gitlink was not marked');
  assert.deepEqual(shared(), before, 'Celistra wrote a shared index into the main .git');
});

test('an index the agent leaves locked (index.lock) with an unmarked gitlink is moved aside: removing the lock, as git advises, does not lead your git add -A into the gitlink', () => {
  const t = stage('guard-index-lock');
  fenced(t, `${gitlinkScript(t.marker, 'nested')} && git -c core.hooksPath=/dev/null update-index --no-skip-worktree nested && touch "$(git rev-parse --git-path index.lock)"`);
  const lock = join(t.container, 'admin', 'index.lock');
  assert.ok(existsSync(lock), 'the agent could not leave its lock (the test proves nothing)');
  // What git tells you to do when it meets a lock: remove it.
  must(`echo more >> README && git add -A >/dev/null 2>&1; rm -f ${lock} && git add -A >/dev/null 2>&1; git stash >/dev/null 2>&1 || true`, t.wt, t.s.env);
  assert.equal(existsSync(t.marker), false, 'git add -A or stash entered the gitlink once the lock was gone');
  const quarantine = join(t.container, 'quarantine');
  assert.ok(existsSync(quarantine) && readdirSync(quarantine).some((d) => existsSync(join(quarantine, d, 'index'))), 'the locked index was not moved to the quarantine');
});

test('a rebase state the agent made unreadable (chmod 000) is moved aside, not left for a chmod of yours to bring back', (tc) => {
  if (process.getuid?.() === 0) return tc.skip('root reads a mode-000 dir anyway: runs again as the unprivileged test user (npm test runs test/sandbox as celistra-ci)');
  const t = stage('guard-rebase-unreadable');
  fenced(t, halfDoneRebase(`sed -i '1i exec touch ${t.marker}' "$(git rev-parse --git-path rebase-merge)/git-rebase-todo" && chmod 000 "$(git rev-parse --git-path rebase-merge)"`));
  must(`chmod 755 ${join(t.container, 'admin', 'rebase-merge')} 2>/dev/null; git rebase --continue >/dev/null 2>&1 || true`, t.wt, t.s.env);
  assert.equal(existsSync(t.marker), false, 'git rebase --continue ran the exec line once the state was readable again');
  assert.equal(existsSync(join(t.container, 'admin', 'rebase-merge')), false, 'the unreadable rebase state was left in the admin dir');
});

test('an unreadable rebase state a killed run left behind (no after-run step) is moved aside by worktree ls, which does not refuse over it', (tc) => {
  if (process.getuid?.() === 0) return tc.skip('root reads a mode-000 dir anyway: runs again as the unprivileged test user (npm test runs test/sandbox as celistra-ci)');
  const t = stage('guard-rebase-unreadable-killed');
  fenced(t, halfDoneRebase(`sed -i '1i exec touch ${t.marker}' "$(git rev-parse --git-path rebase-merge)/git-rebase-todo"`));
  // The run's own after-run step moved it aside; put it back sealed, as a run killed
  // before that step would have left it.
  const quarantine = join(t.container, 'quarantine');
  const moved = readdirSync(quarantine).map((d) => join(quarantine, d, 'rebase-merge')).find((p) => existsSync(p));
  assert.ok(moved, 'the after-run step did not move the rebase state aside');
  const admin = join(t.container, 'admin', 'rebase-merge');
  must(`mv '${moved}' '${admin}' && chmod 000 '${admin}'`, t.repo, t.s.env);
  const ls = celistra(['worktree', 'ls'], t.repo, t.s.env);
  assert.equal(ls.status, 0, `worktree ls refused over state the guard moves aside: ${ls.stderr}`);
  assert.equal(existsSync(admin), false, 'the unreadable rebase state was left in the admin dir');
  must(`git rebase --continue >/dev/null 2>&1 || true`, t.wt, t.s.env);
  assert.equal(existsSync(t.marker), false, 'git rebase --continue ran the exec line');
});

test('a rebase state dir filled with sparse giants is not read whole: worktree ls refuses at the pins scan\'s bound, holding little memory', (tc) => {
  if (spawnSync('/usr/bin/time', ['-f', '%M', 'true']).status !== 0) return tc.skip('no /usr/bin/time to read the peak memory of worktree ls');
  const t = stage('guard-sparse-giants');
  fenced(t, `${halfDoneRebase('true')} && for i in $(seq 1 40); do truncate -s 60M "$(git rev-parse --git-path rebase-merge)/junk$i"; done`);
  const ls = spawnSync('/usr/bin/time', ['-f', 'peak-kb=%M', process.execPath, CLI, 'worktree', 'ls'], { cwd: t.repo, env: t.s.env, encoding: 'utf8' });
  // The quarantine reads only the files that can name a program; the pins scan, which must
  // see every id the state names, stops at its total (256 MiB) and refuses, saying where.
  assert.notEqual(ls.status, 0, 'worktree ls went on past the pins scan\'s bound');
  assert.match(ls.stderr, /rebase-merge\/junk\d+ is past the 256 MiB the scan reads in all/);
  const peak = Number(/peak-kb=(\d+)/.exec(ls.stderr)?.[1]);
  // 40 × 60 MB read into memory is 2.4 GB; one file at a time up to the bound stays far below 1 GB.
  assert.ok(peak > 0 && peak < 1024 * 1024, `worktree ls held ${Math.round(peak / 1024)} MB: it read the agent's giants into memory`);
});
