import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { existsSync, readFileSync, rmSync, truncateSync } from 'node:fs';
import { pinSubmoduleNames } from '../src/worktree/submodule-pins.js';
import { readRecord } from '../src/worktree/record.js';
import { join } from 'node:path';
import { CLI, celistra, makeRepo, must, scratch, snapshot, type Scratch } from './worktree-fixture.js';

// The agent, inside its fence, commits a gitlink, a nested repository whose own config
// runs a program (core.fsmonitor), and a .gitmodules whose `ignore = none` overrides the
// task config's diff.ignoreSubmodules=all. Your own plain git in the task worktree must
// still never enter that repository. (test/sandbox and conformance case 34 run the same
// attack under every backend, as root and unprivileged.)

function stage(label: string): { s: Scratch; repo: string; wt: string; marker: string } {
  const s = scratch(label);
  const repo = makeRepo(s);
  assert.equal(celistra(['worktree', 'add', 'a'], repo, s.env).status, 0);
  return { s, repo, wt: join(s.root, 'repo-a'), marker: join(s.root, 'PWNED') };
}

/** A nested repository at `path` whose fsmonitor touches the marker, and a .gitmodules naming it. */
function plantScript(marker: string, path: string, name: string): string {
  return [
    `git init -q ${path} && (cd ${path} && echo n > n && git add n && git commit -qm n && git config core.fsmonitor 'touch ${marker}; false')`,
    `printf '[submodule "%s"]\\n\\tpath = ${path}\\n\\turl = ./${path}\\n\\tignore = none\\n' '${name}' > .gitmodules`,
  ].join(' && ');
}

function fenced(t: { s: Scratch; repo: string }, script: string): void {
  const r = celistra(['run', '--worktree', 'a', '--', 'sh', '-c', script], t.repo, t.s.env);
  assert.equal(r.status, 0, `the agent's own steps failed: ${r.stderr}`);
}

/** Your git, by hand, in the task worktree: each command must leave no marker. */
function userGit(t: { s: Scratch; wt: string; marker: string }, commands: string[]): void {
  rmSync(t.marker, { force: true });
  for (const cmd of commands) {
    t.s.env.GIT_EDITOR = 'true';
    must(`${cmd} >/dev/null 2>&1 || true`, t.wt, t.s.env);
    assert.equal(existsSync(t.marker), false, `\`${cmd}\` ran the nested repository's fsmonitor on the host`);
  }
}

test('a committed .gitmodules with ignore = none does not make your git status, diff, log, stash or checkout run a nested repository', () => {
  const t = stage('pins-committed');
  fenced(t, `${plantScript(t.marker, 'nested', 'evil')} && git add .gitmodules nested 2>/dev/null && git commit -qm sub && echo wip >> README`);
  const main = snapshot(join(t.repo, '.git', 'refs'), join(t.repo, '.git', 'config'), join(t.repo, 'README'));
  userGit(t, ['git status', 'git status --short', 'git diff', 'git diff HEAD~1', 'git log -p -2', 'git show', 'git stash', 'git stash pop', 'git checkout HEAD~1', 'git status', 'git checkout -', 'git status']);
  assert.equal(snapshot(join(t.repo, '.git', 'refs'), join(t.repo, '.git', 'config'), join(t.repo, 'README')), main, 'the main checkout changed');
  const pins = readFileSync(join(t.repo, '.git', 'celistra', 'worktrees', 'a', 'submodule-pins.config'), 'utf8');
  assert.match(pins, /\[submodule "evil"\]\n\tignore = all\n/);
});

test('a name only in an older commit is pinned before you check that commit out', () => {
  const t = stage('pins-history');
  // The name lives in commit 1 only; HEAD has no .gitmodules at all. (Written escaped, as
  // .gitmodules spells a quote in a name: the pin must spell it the same way.)
  fenced(t, `${plantScript(t.marker, 'nested', 'old.\\"one\\" x')} && git add .gitmodules nested 2>/dev/null && git commit -qm one && git rm -q .gitmodules && git commit -qm two`);
  userGit(t, ['git checkout -q HEAD~1', 'git status', 'git diff', 'git checkout -q agent/a', 'git status']);
});

test('names only in the index or only in the worktree file are pinned', () => {
  const t = stage('pins-index');
  fenced(t, `${plantScript(t.marker, 'nested', 'staged')} && git add .gitmodules nested 2>/dev/null && rm .gitmodules`);
  userGit(t, ['git status', 'git diff --cached']);
  fenced(t, `git reset -q && ${plantScript(t.marker, 'nested2', 'in-the-file')} && git add nested2 2>/dev/null`);
  userGit(t, ['git status', 'git diff']);
});

test('names written while no after-step ran (a killed run) are pinned by the next celistra command', () => {
  const t = stage('pins-killed');
  // As if the agent's run was killed before Celistra's after-step: nothing pinned it yet.
  must(`${plantScript(t.marker, 'nested', 'late')} && git add .gitmodules nested 2>/dev/null`, t.wt, t.s.env);
  const ls = celistra(['worktree', 'ls', '--json'], t.repo, t.s.env);
  assert.equal(ls.status, 0, ls.stderr);
  userGit(t, ['git status', 'git diff']);
});

test('celistra ls, diff and rm never start git in a gitlinked nested repository, whatever .gitmodules says', () => {
  const t = stage('pins-own-git');
  // `git add` (which diff runs on a private index) enters every checked-out gitlink to ask
  // whether it is dirty; the nested repository's clean filter is the agent's program.
  const filter = `(cd nested && git config filter.x.clean 'touch ${t.marker}; cat' && echo '* filter=x' > .gitattributes && touch -d 2001-01-01 n)`;
  fenced(t, `${plantScript(t.marker, 'nested', 'own')} && git add .gitmodules nested 2>/dev/null && git commit -qm sub && ${filter} && echo wip > wip.txt`);
  rmSync(t.marker, { force: true });
  const ls = celistra(['worktree', 'ls', '--json'], t.repo, t.s.env);
  assert.equal(ls.status, 0, ls.stderr);
  assert.equal(JSON.parse(ls.stdout)[0].dirty, true);
  const diff = celistra(['diff', 'a', '--stat'], t.repo, t.s.env);
  assert.equal(diff.status, 0, diff.stderr);
  assert.match(diff.stdout, /wip\.txt/);
  assert.match(diff.stdout, /nested/, 'the gitlink the task committed is in the diff');
  assert.equal(existsSync(t.marker), false, 'ls or diff ran the nested repository\'s filter');
  const rm = celistra(['worktree', 'rm', 'a', '--force'], t.repo, t.s.env);
  assert.equal(rm.status, 0, rm.stderr);
  assert.equal(existsSync(t.marker), false, 'rm ran the nested repository\'s filter');
});

test('a .gitmodules that breaks off in a syntax error still has the names before the error pinned', () => {
  const t = stage('pins-broken-config');
  // Staged, then deleted from the worktree: git reads the index's copy as a blob, and a
  // blob's syntax error is an error, not a death — the entries before it stay in force.
  fenced(t, `${plantScript(t.marker, 'nested', 'cut')} && printf '[[[broken\\n' >> .gitmodules && git add .gitmodules nested 2>/dev/null && rm .gitmodules`);
  userGit(t, ['git status', 'git diff --cached', 'git diff']);
  const pins = readFileSync(join(t.repo, '.git', 'celistra', 'worktrees', 'a', 'submodule-pins.config'), 'utf8');
  assert.match(pins, /\[submodule "cut"\]\n\tignore = all\n/);
});

test('a commit whose parent is missing does not hide the other commits\' .gitmodules from the pins', () => {
  const t = stage('pins-broken-history');
  // The name lives only in branch `old`; a newer ref names a commit whose parent does not
  // exist, which makes a history walk over all tips stop before it reads anything.
  const poison = [
    `T=$(git rev-parse HEAD^{tree})`,
    `C=$(printf 'tree %s\\nparent 1111111111111111111111111111111111111111\\nauthor a <a@b> 4000000000 +0000\\ncommitter a <a@b> 4000000000 +0000\\n\\nx\\n' $T | git hash-object -t commit -w --stdin)`,
    `git update-ref refs/heads/zz $C`,
  ].join(' && ');
  fenced(t, `git checkout -q -b old && ${plantScript(t.marker, 'nested', 'hidden')} && git add .gitmodules nested 2>/dev/null && git commit -qm one && git rm -q --sparse --cached .gitmodules nested && rm .gitmodules && git commit -qm two && git checkout -q agent/a && ${poison}`);
  userGit(t, ['git status', 'git checkout -q old~1', 'git status', 'git diff', 'git checkout -q agent/a', 'git status']);
});

test('a .gitmodules that is a FIFO does not hang the run\'s after-step, ls, diff or rm', () => {
  const t = stage('pins-fifo');
  // Git reads .gitmodules through a link as well, so the pins do too; but opening a FIFO
  // for reading waits for a writer that never comes.
  const cli = (args: string[]) => spawnSync(process.execPath, [CLI, ...args], { cwd: t.repo, env: t.s.env, encoding: 'utf8', timeout: 30_000 });
  const ran = cli(['run', '--worktree', 'a', '--', 'sh', '-c', 'mkfifo .gitmodules && mkfifo fifo && ln -s fifo .gitmodules2']);
  assert.equal(ran.signal, null, 'the run hung after the agent exited');
  assert.equal(ran.status, 0, ran.stderr);
  for (const args of [['worktree', 'ls', '--json'], ['diff', 'a', '--stat'], ['worktree', 'rm', 'a', '--force']]) {
    const r = cli(args);
    assert.equal(r.signal, null, `celistra ${args.join(' ')} hung`);
    assert.equal(r.status, 0, `celistra ${args.join(' ')}: ${r.stderr}`);
  }
  assert.equal(existsSync(t.wt), false, 'rm left the worktree');
});

test('a .gitmodules linked to a FIFO (or a terminal) is never opened by ls, diff or rm: its waiting writer stays blocked', async () => {
  const t = stage('pins-fifo-link');
  // A link the agent aims at a device makes a plain open act on it: a terminal the agent
  // holds (a pty it opened) becomes the controlling one of the detached daemon, whose
  // stat opens it, and the agent's ^C then reaches the daemon. A FIFO shows the same open:
  // the writer's own open waits until some reader opens it.
  fenced(t, 'mkfifo fifo && ln -s fifo .gitmodules');
  const marker = join(t.s.root, 'fifo-opened');
  // Nothing is written: a reader that closes at once would kill a writing one (SIGPIPE) first.
  const writer = spawn('sh', ['-c', `: > '${join(t.wt, 'fifo')}' && touch '${marker}'`], { stdio: 'ignore' });
  try {
    await sleep(200);
    // (diff's own status is not the point here: git refuses a linked .gitmodules in an index.)
    for (const args of [['worktree', 'ls', '--json'], ['diff', 'a', '--stat'], ['worktree', 'rm', 'a', '--force']]) {
      const r = spawnSync(process.execPath, [CLI, ...args], { cwd: t.repo, env: t.s.env, encoding: 'utf8', timeout: 30_000 });
      assert.equal(r.signal, null, `celistra ${args.join(' ')} hung`);
      await sleep(300);
      assert.equal(existsSync(marker), false, `celistra ${args.join(' ')} opened the FIFO behind .gitmodules: its writer went on`);
    }
  } finally {
    writer.kill('SIGKILL');
  }
});

test('a submodule name that is not UTF-8 is pinned byte for byte', () => {
  const t = stage('pins-bytes');
  // Git keys config by bytes: a pin decoded and re-encoded as UTF-8 (\377 -> U+FFFD) names
  // another submodule. Both the worktree file and the index's blob carry the name.
  fenced(t, `git init -q nested && (cd nested && echo n > n && git add n && git commit -qm n && git config core.fsmonitor 'touch ${t.marker}; false') && printf '[submodule "\\377x\\303"]\\n\\tpath = nested\\n\\tignore = none\\n' > .gitmodules && git add .gitmodules nested 2>/dev/null`);
  userGit(t, ['git status', 'git diff']);
  const pins = readFileSync(join(t.repo, '.git', 'celistra', 'worktrees', 'a', 'submodule-pins.config'));
  assert.ok(pins.includes(Buffer.from('[submodule "\xffx\xc3"]', 'latin1')), 'the pin spells the name in its own bytes');
});

test('a replace ref that swaps the .gitmodules blob your git reads is pinned by what it puts there', () => {
  const t = stage('pins-replace');
  // Host git reads the task's objects through the main repository, which has none of the
  // shadow's refs/replace; your git in the worktree reads the replacement instead.
  fenced(t, `git init -q nested && (cd nested && echo n > n && git add n && git commit -qm n && git config core.fsmonitor 'touch ${t.marker}; false') && git add nested 2>/dev/null && printf '[submodule "harmless"]\\n\\tpath = other\\n' > .gitmodules && git add .gitmodules && git commit -qm c && B2=$(printf '[submodule "swapped"]\\n\\tpath = nested\\n\\tignore = none\\n' | git hash-object -w --stdin) && git replace -f $(git rev-parse HEAD:.gitmodules) $B2 && rm .gitmodules`);
  userGit(t, ['git status', 'git diff', 'git checkout -- .gitmodules', 'git status']);
});

test('a tag of a bare tree is pinned before you restore its .gitmodules', () => {
  const t = stage('pins-tree-tag');
  // No commit holds this tree: only an annotated tag names it.
  fenced(t, `git init -q nested && (cd nested && echo n > n && git add n && git commit -qm n && git config core.fsmonitor 'touch ${t.marker}; false') && git add nested 2>/dev/null && printf '[submodule "tagged"]\\n\\tpath = nested\\n\\tignore = none\\n' > .gitmodules && git add .gitmodules && TREE=$(git write-tree) && git rm -q --cached .gitmodules && rm .gitmodules && git tag -a -m t treetag $TREE`);
  userGit(t, ['git status', 'git restore --source=treetag .gitmodules', 'git status', 'git diff']);
});

test('an index past the scan\'s bound (sparse, 1 GiB and more) is refused, never left unread', () => {
  const t = stage('pins-big-index');
  const record = readRecord(join(t.repo, '.git'), 'a');
  assert.ok(record);
  const index = join(t.repo, '.git', 'celistra', 'worktrees', 'a', 'admin', 'index');
  // Git skips an optional extension of any size: such an index still names .gitmodules.
  truncateSync(index, 1024 * 1024 * 1024 + 1);
  try {
    assert.throws(() => pinSubmoduleNames(record), /admin\/index is larger than the 1024 MiB the scan reads/);
  } finally {
    rmSync(index, { force: true });
  }
});

test('a name only in the task\'s index (staged, then removed from the worktree) is pinned from the index itself', () => {
  const t = stage('pins-index-direct');
  must(`printf '[submodule "index-only-name"]\\n\\tpath = x\\n' > .gitmodules && git add .gitmodules && rm .gitmodules`, t.wt, t.s.env);
  const record = readRecord(join(t.repo, '.git'), 'a');
  assert.ok(record);
  assert.ok(pinSubmoduleNames(record).includes('index-only-name'));
});
