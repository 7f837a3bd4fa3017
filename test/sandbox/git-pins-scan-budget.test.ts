import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { celistra, makeRepo, must, scratch, snapshot, type Scratch } from '../worktree-fixture.js';
import { anyTaskWorktreeSkip } from '../support/fence-skip.js';

/** Every test here fences a task worktree: where no backend can, each skips saying why. */
const skip = anyTaskWorktreeSkip();

// Every host command on a task (worktree ls, diff, pull, rm, a run's steps) scans the
// task's git state, which the agent writes, for the commits whose .gitmodules names must
// be pinned (src/worktree/submodule-pins.ts). The scan is bounded, and past its bounds,
// or where it cannot read, it refuses, naming the path and the bound: it never reads
// without end, and never pins from a part of the state.

interface Stage {
  s: Scratch;
  repo: string;
  container: string;
}

function stage(label: string): Stage {
  const s = scratch(label);
  const repo = makeRepo(s);
  assert.equal(celistra(['worktree', 'add', 'a'], repo, s.env).status, 0);
  return { s, repo, container: join(repo, '.git', 'celistra', 'worktrees', 'a') };
}

/** The agent's steps, in its fence; `$d` is the task's git common dir (the shadow). */
function fenced(t: Stage, script: string): void {
  const r = celistra(['run', '--worktree', 'a', '--', 'sh', '-c', `d=$(git rev-parse --git-common-dir) && ${script}`], t.repo, t.s.env);
  assert.equal(r.status, 0, `the agent's own steps failed: ${r.stderr}`);
}

/** What the host keeps of the task (the pins, the record): a refusal changes none of it. */
function hostState(t: Stage): string {
  return snapshot(join(t.container, 'submodule-pins.config'), join(t.container, 'submodule-pins.json'), join(t.container, 'worktree.json'), join(t.repo, '.git', 'refs'));
}

/** ls, diff and a new run all refuse with `expected` in their message, and change nothing the host keeps. */
function refused(t: Stage, expected: RegExp): void {
  const before = hostState(t);
  for (const args of [['worktree', 'ls'], ['diff', 'a'], ['run', '--worktree', 'a', '--', 'true']]) {
    const r = celistra(args, t.repo, t.s.env);
    assert.notEqual(r.status, 0, `celistra ${args.join(' ')} went on past the scan's bound: ${r.stderr}`);
    assert.match(r.stderr, expected, `celistra ${args.join(' ')} did not say which path passed which bound`);
    assert.match(r.stderr, /cannot be checked for submodule names/);
  }
  assert.equal(hostState(t), before, 'a refusing command changed what the host keeps of the task');
}

/** Once the planted files are gone, every command works again: nothing was lost. */
function recovers(t: Stage, planted: string): void {
  must(`chmod -R u+rwx '${planted}' 2>/dev/null; rm -rf '${planted}'`, t.repo, t.s.env);
  const ls = celistra(['worktree', 'ls'], t.repo, t.s.env);
  assert.equal(ls.status, 0, ls.stderr);
}

test('sparse files past the total the pins scan reads make host commands refuse, not read them all', { skip }, () => {
  const t = stage('pins-budget-total');
  // Five sparse 60 MiB files (no disk): each under the file bound, 300 MiB in all.
  fenced(t, 'mkdir "$d/logs/pad" && for i in 1 2 3 4 5; do truncate -s 60M "$d/logs/pad/$i"; done');
  refused(t, /logs\/pad\/\d is past the 256 MiB the scan reads in all/);
  assert.ok(existsSync(join(t.container, 'git', 'logs', 'pad', '1')), 'the refusal removed the agent\'s files');
  recovers(t, join(t.container, 'git', 'logs', 'pad'));
});

test('a ref file larger than the bound of one file is refused, not skipped (git reads it whatever its size)', { skip }, () => {
  const t = stage('pins-budget-file');
  // A valid ref for git (the id, then NULs): skipping it would miss the commit it names.
  fenced(t, 'git rev-parse HEAD > "$d/refs/heads/big" && truncate -s 65M "$d/refs/heads/big"');
  refused(t, /refs\/heads\/big is larger than the 64 MiB the scan reads of one file/);
  recovers(t, join(t.container, 'git', 'refs', 'heads', 'big'));
});

test('more entries than the pins scan reads make host commands refuse', { skip }, () => {
  const t = stage('pins-budget-entries');
  fenced(t, 'mkdir "$d/many" && cd "$d/many" && seq 1 50001 | xargs touch');
  refused(t, /many\/\d+ is past the 50000 entries the scan reads in all/);
  recovers(t, join(t.container, 'git', 'many'));
});

test('a ref deeper than the pins scan goes is refused, not skipped', { skip }, () => {
  const t = stage('pins-budget-depth');
  const deep = Array.from({ length: 33 }, (_, i) => `l${i}`).join('/');
  fenced(t, `mkdir -p "$d/refs/heads/${deep}" && git rev-parse HEAD > "$d/refs/heads/${deep}/x"`);
  refused(t, /refs\/heads\/l0\/.*l3\d is deeper than the 32 levels the scan reads/);
  recovers(t, join(t.container, 'git', 'refs', 'heads', 'l0'));
});

const isRoot = process.getuid?.() === 0;
test('a refs directory the agent made unreadable is refused, not skipped', { skip: isRoot ? 'root reads a mode-000 directory anyway; npm test runs this as the unprivileged user' : skip }, () => {
  const t = stage('pins-budget-unreadable');
  fenced(t, 'mkdir "$d/refs/heads/sealed" && git rev-parse HEAD > "$d/refs/heads/sealed/x" && chmod 000 "$d/refs/heads/sealed"');
  refused(t, /refs\/heads\/sealed cannot be (?:opened|listed) \(EACCES\)/);
  recovers(t, join(t.container, 'git', 'refs', 'heads', 'sealed'));
});

test('a ref that is a link to a file the agent wrote elsewhere is read as git reads it: the commit it names is pinned', { skip }, () => {
  const t = stage('pins-budget-link');
  // A commit whose .gitmodules names "hidden", then every ordinary trace of it gone
  // (branch, reflogs): only a link in refs/heads, to a file in the worktree, names it.
  fenced(
    t,
    [
      `git checkout -q -b side && printf '[submodule "hidden"]\\n\\tpath = h\\n\\turl = ./h\\n' > .gitmodules && git add .gitmodules && git commit -qm gm`,
      `git rev-parse HEAD > .hidden-ref && git checkout -q - && git branch -q -D side && git reflog expire --expire=now --all`,
      `ln -s "$PWD/.hidden-ref" "$d/refs/heads/hidden"`,
      // A link whose text is a ref name is git's old symbolic ref: git never opens it.
      `ln -s refs/heads/main "$d/refs/heads/alias"`,
    ].join(' && '),
  );
  const wt = join(t.s.root, 'repo-a');
  assert.match(must('git for-each-ref --format="%(refname)" refs/heads/hidden', wt, t.s.env), /refs\/heads\/hidden/, 'git does not follow the link: the plant proves nothing');
  const ls = celistra(['worktree', 'ls'], t.repo, t.s.env);
  assert.equal(ls.status, 0, ls.stderr);
  assert.match(readFileSync(join(t.container, 'submodule-pins.config'), 'latin1'), /\[submodule "hidden"\]/, 'the name only the linked ref reaches was not pinned');
});

test('a ref that is a link to a directory, to nothing, to a FIFO or to a device is refused, not skipped', { skip }, () => {
  const t = stage('pins-budget-badlink');
  for (const [name, plant, expected] of [
    ['dir', 'mkdir -p .refdir && ln -s "$PWD/.refdir" "$d/refs/heads/dir"', /refs\/heads\/dir is a link \(to ".*\.refdir"\) that leads to a directory/],
    ['dangling', 'ln -s "$PWD/.nothing" "$d/refs/heads/dangling"', /refs\/heads\/dangling is a link \(to ".*\.nothing"\) that leads to nothing \(\.nothing is missing\)/],
    ['fifo', 'mkfifo .fifo && ln -s "$PWD/.fifo" "$d/refs/heads/fifo"', /refs\/heads\/fifo is a link \(to ".*\.fifo"\) that leads to something other than a regular file/],
    // Through a link of its own in the way: resolved a step at a time, the device never opened.
    ['device', 'ln -s /dev .devdir && ln -s "$PWD/.devdir/null" "$d/refs/heads/device"', /refs\/heads\/device is a link \(to ".*\.devdir\/null"\) that leads to something other than a regular file/],
  ] as const) {
    fenced(t, plant);
    refused(t, expected);
    recovers(t, join(t.container, 'git', 'refs', 'heads', name));
  }
});

test('a .gitmodules or a ref linked to a host file outside the task is refused, unread: its submodule names never reach the pins', { skip }, () => {
  const t = stage('pins-budget-outside');
  // A host file the agent did not write, shaped like a .gitmodules (the attack review's
  // ~/.netrc holding a [submodule] section): before, its section names were pinned and the
  // agent's git read them back.
  const secret = join(t.s.root, 'host-secret');
  writeFileSync(secret, '[submodule "SECRET-FROM-HOST"]\n\tpath = x\n');
  for (const [name, plant, expected] of [
    ['.gitmodules', `ln -sf '${secret}' .gitmodules`, /its \.gitmodules is a link that leads outside the task's worktree and git dirs \(to .*host-secret\)/],
    ['ref', `ln -s '${secret}' "$d/refs/heads/outside"`, /refs\/heads\/outside is a link \(to ".*host-secret"\) that leads outside the task's worktree and git dirs/],
  ] as const) {
    fenced(t, plant);
    refused(t, expected);
    assert.ok(!existsSync(join(t.container, 'submodule-pins.config')) || !readFileSync(join(t.container, 'submodule-pins.config'), 'latin1').includes('SECRET-FROM-HOST'), `${name}: the host file's section name was pinned`);
    recovers(t, name === 'ref' ? join(t.container, 'git', 'refs', 'heads', 'outside') : join(t.s.root, 'repo-a', '.gitmodules'));
  }
});
