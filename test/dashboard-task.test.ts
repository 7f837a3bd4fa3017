/**
 * A task's diff and pull over the API the dashboard uses (GET /v1/agents/:name/diff,
 * POST /v1/agents/:name/pull): the same answers as `celistra diff` / `celistra pull`,
 * bounded, and the pull's refusals leave the main checkout as it was.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TaskDiff } from '../src/daemon/task-diff.js';
import { boundPatch, MAX_PATCH_BYTES, parseNumstat } from '../src/daemon/task-git.js';
import { CLI_MAIN, cleanup, makeSandbox, spawnAgent, startDaemonProcess, waitFor, type Sandbox } from './daemon-harness.js';
import { login, loginLink, rawRequest, startDashboardDaemon, taskRepo } from './dashboard-support.js';

const COMMIT = 'git -c user.email=a@example.com -c user.name=agent commit -qm';

async function taskAgent(sb: Sandbox, name: string, task: string, script: string) {
  const { repo, git } = taskRepo(sb, task);
  await spawnAgent(sb, name, ['sh', '-c', `${script}; echo DONE; exec sleep 300`], { worktree: task, repo, workspace: undefined });
  await waitFor(`${name} done`, async () => (await sb.client.logs(name)).includes('DONE') || undefined, 30_000);
  return { repo, git };
}

async function diffOf(sb: Sandbox, name: string): Promise<TaskDiff> {
  return (await sb.client.call<{ diff: TaskDiff }>('GET', `/v1/agents/${name}/diff`)).diff;
}

test('the diff lists each changed file with its +/- and the patch, committed and uncommitted work alike, as celistra diff shows it', async () => {
  const sb = makeSandbox();
  const daemon = await startDaemonProcess(sb);
  try {
    const { repo } = await taskAgent(sb, 'fixer', 'fix', `printf 'one\\ntwo\\n' > a.txt && git add a.txt && ${COMMIT} a && printf 'hello\\nworld\\n' > README && printf '<script>x</script>\\n' > new.html`);
    const d = await diffOf(sb, 'fixer');
    assert.equal(d.task, 'fix');
    assert.equal(d.branch, 'agent/fix');
    assert.deepEqual(d.files, [
      { path: 'README', added: 1, removed: 0 },
      { path: 'a.txt', added: 2, removed: 0 },
      { path: 'new.html', added: 1, removed: 0 },
    ]);
    assert.equal(d.added, 4);
    assert.equal(d.truncated, false);
    assert.match(d.patch, /^\+<script>x<\/script>$/m, 'the patch is text, as git wrote it');
    const cli = spawnSync(process.execPath, [CLI_MAIN, 'diff', 'fix'], { cwd: repo, env: sb.env, encoding: 'utf8' });
    assert.equal(cli.status, 0, cli.stderr);
    assert.equal(d.patch, cli.stdout, 'the same patch as celistra diff');
  } finally {
    await cleanup(sb, daemon);
  }
});

test('a patch over the limit is cut at a line end and says so; the file list stays whole', async () => {
  const sb = makeSandbox();
  const daemon = await startDaemonProcess(sb);
  try {
    await taskAgent(sb, 'big', 'big', `seq 1 200000 > big.txt && echo small > small.txt`);
    const d = await diffOf(sb, 'big');
    assert.equal(d.truncated, true);
    assert.ok(d.patchBytes > MAX_PATCH_BYTES, `patchBytes ${d.patchBytes}`);
    assert.ok(Buffer.byteLength(d.patch) <= MAX_PATCH_BYTES);
    assert.ok(d.patch.endsWith('\n'));
    assert.deepEqual(d.files.map((f) => [f.path, f.added]), [['big.txt', 200000], ['small.txt', 1]]);
  } finally {
    await cleanup(sb, daemon);
  }
});

test('an agent in a plain directory has no diff or pull: 409 saying why', async () => {
  const sb = makeSandbox();
  const daemon = await startDaemonProcess(sb);
  try {
    await spawnAgent(sb, 'plain', ['sleep', '300']);
    await assert.rejects(diffOf(sb, 'plain'), /agent plain does not run in a task worktree/);
    await assert.rejects(sb.client.call('POST', '/v1/agents/plain/pull', {}), /does not run in a task worktree/);
    await assert.rejects(sb.client.call('POST', '/v1/agents/plain/pull', { mode: 'rebase' }), /"mode" must be one of merge, ff-only, squash/);
  } finally {
    await cleanup(sb, daemon);
  }
});

test('pull through the dashboard refuses a dirty main checkout, changing nothing, then brings the task in once it is clean', async () => {
  const sb = makeSandbox();
  const d = await startDashboardDaemon(sb);
  try {
    const { repo, git } = await taskAgent(sb, 'puller', 'feat', `echo feature > feat.txt && git add feat.txt && ${COMMIT} feature`);
    const cookie = await login(d, loginLink(sb));
    const headers = { host: d.host, origin: d.origin, cookie };
    writeFileSync(join(repo, 'README'), 'local edit\n');
    const before = git('rev-parse', 'HEAD').stdout;
    const refused = await rawRequest(d.port, 'POST', '/v1/agents/puller/pull', headers, '{"mode":"ff-only"}');
    assert.equal(refused.status, 409);
    assert.match(refused.body, /has uncommitted changes/);
    assert.equal(git('rev-parse', 'HEAD').stdout, before, 'main did not move');
    assert.equal(readFileSync(join(repo, 'README'), 'utf8'), 'local edit\n', 'the local edit is kept');
    const noOrigin = await rawRequest(d.port, 'POST', '/v1/agents/puller/pull', { host: d.host, cookie }, '{}');
    assert.equal(noOrigin.status, 403, 'a pull without the page\'s Origin is refused');
    assert.equal(git('checkout', '--', 'README').status, 0);
    const pulled = await rawRequest(d.port, 'POST', '/v1/agents/puller/pull', headers, '{"mode":"ff-only"}');
    assert.equal(pulled.status, 200, pulled.body);
    const r = (JSON.parse(pulled.body) as { pull: { outcome: string; into: string; commit: string } }).pull;
    assert.equal(r.outcome, 'fast-forward');
    assert.equal(r.into, 'main');
    assert.equal(git('rev-parse', 'HEAD').stdout.trim(), r.commit);
    assert.equal(readFileSync(join(repo, 'feat.txt'), 'utf8'), 'feature\n');
  } finally {
    await cleanup(sb, d.daemon);
  }
});

test('numstat lines become files, binary files with null counts', () => {
  assert.deepEqual(parseNumstat('3\t1\tsrc/a.ts\n-\t-\timg.png\n0\t5\tdir/{old => new}.txt\n'), [
    { path: 'src/a.ts', added: 3, removed: 1 },
    { path: 'img.png', added: null, removed: null },
    { path: 'dir/{old => new}.txt', added: 0, removed: 5 },
  ]);
});

test('a patch is cut after a whole line, never inside a multi-byte character', () => {
  const patch = `+${'é'.repeat(10)}\n+${'é'.repeat(10)}\n`;
  const cut = boundPatch(patch, 30);
  assert.deepEqual(cut, { patch: `+${'é'.repeat(10)}\n`, patchBytes: Buffer.byteLength(patch), truncated: true });
  assert.deepEqual(boundPatch(patch, 1000), { patch, patchBytes: Buffer.byteLength(patch), truncated: false });
});
