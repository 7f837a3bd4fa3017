import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { autoBackendName } from '../src/run/backend-selection.js';
import { celistra, makeRepo, must, scratch, snapshot, write, type Scratch } from './worktree-fixture.js';

// Findings of the security review of the worktree workflow, each replayed as the agent
// (or its committed tree) would play it, with the host checked unchanged afterwards.

/** A task `t3` whose committed tree holds `links` (path -> symlink target), harvested by `rm`. */
function agentBranchWithLinks(s: Scratch, repo: string, links: Record<string, string>): void {
  assert.equal(celistra(['worktree', 'add', 't3'], repo, s.env).status, 0);
  const wt = join(s.root, 'repo-t3');
  for (const [path, target] of Object.entries(links)) must(`rm -rf '${path}' && ln -s '${target}' '${path}' && git add -f '${path}'`, wt, s.env);
  must('git commit -qm "innocent looking"', wt, s.env);
  const rm = celistra(['worktree', 'rm', 't3', '--force'], repo, s.env);
  assert.equal(rm.status, 0, rm.stderr);
}

function includeStage(label: string) {
  const s = scratch(label);
  const repo = makeRepo(s);
  write(join(repo, '.worktreeinclude'), '.env\nconf/*.local\n');
  mkdirSync(join(repo, 'conf'));
  write(join(repo, '.env'), 'USER_SECRET=1\n');
  write(join(repo, 'conf', 'db.local'), 'db password\n');
  const victim = join(s.root, 'victim');
  mkdirSync(victim);
  write(join(victim, 'file'), 'victim content\n');
  return { s, repo, victim };
}

for (const [what, links] of [
  ['a committed .env symlink', (v: string) => ({ '.env': join(v, 'file') })],
  ['a committed directory symlink on the way to an included file', (v: string) => ({ conf: v })],
  ['a dangling .env symlink', (v: string) => ({ '.env': join(v, 'new-file') })],
] as const) {
  test(`worktree add never writes through ${what} in an agent's base`, () => {
    const { s, repo, victim } = includeStage('include-link');
    agentBranchWithLinks(s, repo, links(victim));
    const before = snapshot(victim);
    const r = celistra(['worktree', 'add', 't4', '--base', 'agent/t3'], repo, s.env);
    assert.equal(r.status, 71, r.stderr);
    assert.match(r.stderr, /not copying (\.env|conf\/db\.local) from \.worktreeinclude: .* is a symlink in the base tree/);
    assert.equal(snapshot(victim), before, 'the symlink target changed');
    assert.ok(!existsSync(join(s.root, 'repo-t4')), 'the refused worktree was left behind');
    assert.equal(must('git branch --list agent/t4', repo, s.env), '');
  });
}

test('worktree add refuses to overwrite an included file that the base commit tracks', () => {
  const { s, repo } = includeStage('include-tracked');
  assert.equal(celistra(['worktree', 'add', 't3'], repo, s.env).status, 0);
  must('echo AGENT=1 > .env && git add -f .env && git commit -qm env', join(s.root, 'repo-t3'), s.env);
  assert.equal(celistra(['worktree', 'rm', 't3', '--force'], repo, s.env).status, 0);
  const r = celistra(['worktree', 'add', 't4', '--base', 'agent/t3'], repo, s.env);
  assert.equal(r.status, 71, r.stderr);
  assert.match(r.stderr, /not copying \.env .* already exists in the base tree/);
  assert.ok(!existsSync(join(s.root, 'repo-t4')));
});

const backend = autoBackendName();
const noBackendEnv = { CELISTRA_BWRAP: '/nonexistent/bwrap', CELISTRA_LANDLOCK_FORCE_ABI: '0' };

function setupStage(label: string) {
  const s = scratch(label);
  const repo = makeRepo(s);
  const victim = join(s.root, 'victim');
  mkdirSync(victim);
  write(join(victim, 'file'), 'victim content\n');
  const setup = `echo pwned >> ${victim}/file; touch ${victim}/planted; echo made > inside; true`;
  write(join(repo, '.celistra.json'), JSON.stringify({ worktree: { setup } }));
  must('git add .celistra.json && git commit -qm setup', repo, s.env);
  return { s, repo, victim, wt: join(s.root, 'repo-t') };
}

test('the setup command runs fenced to the new worktree', { skip: backend ? false : 'no sandbox backend here' }, () => {
  const { s, repo, victim, wt } = setupStage('setup-fenced');
  const before = snapshot(victim);
  const r = celistra(['worktree', 'add', 't', '--json'], repo, s.env);
  assert.equal(snapshot(victim), before, 'the setup command wrote outside its worktree');
  assert.equal(r.status, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).record.path, wt, 'setup output stays off stdout');
  assert.match(r.stderr, /running setup \(backend (landlock|bwrap)\)/);
  assert.equal(readFileSync(join(wt, 'inside'), 'utf8'), 'made\n', 'the setup command could not write its worktree');
});

test('without a sandbox backend the setup command is refused, not run unfenced', () => {
  const { s, repo, victim, wt } = setupStage('setup-nobackend');
  const before = snapshot(victim);
  const r = celistra(['worktree', 'add', 't'], repo, { ...s.env, ...noBackendEnv });
  assert.equal(r.status, 67, r.stderr);
  assert.match(r.stderr, /the setup command .* was not run: no sandbox backend/);
  assert.match(r.stderr, /--setup-unsandboxed/);
  assert.ok(!existsSync(join(wt, 'inside')), 'the setup command ran');
  assert.ok(existsSync(join(wt, 'README')), 'the worktree itself is kept');
  assert.equal(snapshot(victim), before);
});

test('--setup-unsandboxed runs it without a backend, warned and audited', () => {
  const { s, repo, wt } = setupStage('setup-unsandboxed');
  const r = celistra(['worktree', 'add', 't', '--setup-unsandboxed'], repo, { ...s.env, ...noBackendEnv });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /WARNING: .*UNSANDBOXED/);
  assert.ok(existsSync(join(wt, 'inside')));
  const history = celistra(['history', '--json'], repo, s.env);
  assert.equal(history.status, 0, history.stderr);
  const rows = JSON.parse(history.stdout) as Array<{ type: string; agent: string | null }>;
  assert.ok(rows.some((row) => row.type === 'unsandboxed' && row.agent === 't'), `no unsandboxed audit event: ${history.stdout}`);
});

test('host git reads nothing through an object store whose objects/info was replaced', () => {
  const s = scratch('alternates-swap');
  const repo = makeRepo(s);
  assert.equal(celistra(['worktree', 'add', 'a'], repo, s.env).status, 0);
  must('echo task > task.txt && git add task.txt && git commit -qm task', join(s.root, 'repo-a'), s.env);
  const objects = join(repo, '.git', 'celistra', 'worktrees', 'a', 'git', 'objects');
  // What an agent can do when only objects/info/alternates is carved out, or by renaming
  // objects/ itself: a fresh info dir naming any object store on the machine.
  renameSync(join(objects, 'info'), join(objects, 'info.moved'));
  mkdirSync(join(objects, 'info'));
  write(join(objects, 'info', 'alternates'), `${join(repo, '.git', 'objects')}\n/etc\n`);
  const before = snapshot(join(repo, '.git'));
  for (const args of [['diff', 'a'], ['pull', 'a'], ['worktree', 'ls'], ['run', '--worktree', 'a', '--', 'true'], ['worktree', 'rm', 'a']]) {
    const r = celistra(args, repo, s.env);
    assert.equal(r.status, 69, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /was tampered with/);
  }
  assert.equal(snapshot(join(repo, '.git')), before, 'the main repository changed');
  const rm = celistra(['worktree', 'rm', 'a', '--force'], repo, s.env);
  assert.equal(rm.status, 0, rm.stderr);
  assert.ok(!existsSync(join(s.root, 'repo-a')));
});

test('host git runs no filter driver named by the agent\'s .gitattributes', () => {
  const s = scratch('filters');
  const repo = makeRepo(s);
  assert.equal(celistra(['worktree', 'add', 'a'], repo, s.env).status, 0);
  const wt = join(s.root, 'repo-a');
  must('printf "*.txt filter=lfs\\n" > .gitattributes && echo task > task.txt && git add . && git commit -qm task && echo wip > wip.txt && echo more >> task.txt', wt, s.env);
  // The user's global config defines the driver (as `git lfs install` does), after the
  // agent's commits; from here on only Celistra runs git.
  const marker = join(s.root, 'FILTER-RAN');
  const cmd = `touch ${marker}; cat`;
  write(join(s.env.HOME!, '.gitconfig'), `[filter "lfs"]\n\tclean = ${cmd}\n\tsmudge = ${cmd}\n\tprocess = ${cmd}\n\trequired = true\n`);
  const home = snapshot(s.env.HOME!);

  const diff = celistra(['diff', 'a'], repo, s.env);
  assert.ok(!existsSync(marker), 'diff ran a filter driver on the host');
  assert.equal(diff.status, 0, diff.stderr);
  assert.match(diff.stdout, /\+wip/);
  assert.match(diff.stdout, /\+more/);
  assert.equal(celistra(['worktree', 'ls'], repo, s.env).status, 0);
  assert.ok(!existsSync(marker), 'ls ran a filter driver on the host');
  const pull = celistra(['pull', 'a'], repo, s.env);
  assert.ok(!existsSync(marker), 'pull ran a filter driver on the host');
  assert.equal(pull.status, 0, pull.stderr);
  assert.equal(readFileSync(join(repo, 'task.txt'), 'utf8'), 'task\n');
  const add = celistra(['worktree', 'add', 'b', '--base', 'agent/a'], repo, s.env);
  assert.ok(!existsSync(marker), 'worktree add ran a filter driver on the host');
  assert.equal(add.status, 0, add.stderr);
  assert.equal(readFileSync(join(s.root, 'repo-b', 'task.txt'), 'utf8'), 'task\n');
  assert.equal(celistra(['worktree', 'rm', 'a', '--force'], repo, s.env).status, 0);
  assert.ok(!existsSync(marker), 'a filter driver ran on the host');
  assert.equal(snapshot(s.env.HOME!), home);
});
