import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { agent, CLI_MAIN, cleanup, makeSandbox, startDaemonProcess, waitFor } from './daemon-harness.js';

test('ctl spawn --worktree runs the agent in that task worktree, shows its branch, and git commits work inside the fence', async () => {
  const sb = makeSandbox();
  const daemon = await startDaemonProcess(sb);
  try {
    const repo = join(sb.root, 'repo');
    mkdirSync(repo);
    const git = (...args: string[]) => spawnSync('git', ['-c', 'user.email=t@example.com', '-c', 'user.name=t', ...args], { cwd: repo, env: sb.env, encoding: 'utf8' });
    assert.equal(git('init', '-q', '-b', 'main').status, 0);
    assert.equal(git('commit', '-q', '--allow-empty', '-m', 'init').status, 0);
    const add = spawnSync(process.execPath, [CLI_MAIN, 'worktree', 'add', 'task1'], { cwd: repo, env: sb.env, encoding: 'utf8' });
    assert.equal(add.status, 0, add.stderr);
    const spawned = spawnSync(
      process.execPath,
      [CLI_MAIN, 'ctl', 'spawn', '--worktree', 'task1', '--name', 'wt', '--', 'sh', '-c', 'echo work > f && git add f && git -c user.email=t@example.com -c user.name=t commit -qm agent && echo COMMITTED; exec sleep 300'],
      { cwd: repo, env: sb.env, encoding: 'utf8' },
    );
    assert.equal(spawned.status, 0, spawned.stderr);
    const a = await agent(sb, 'wt');
    assert.equal(a.worktree, 'task1');
    assert.equal(a.branch, 'agent/task1');
    assert.notEqual(a.backend, 'none');
    assert.match(a.workspace, /task1$/);
    await waitFor('the commit', async () => (await sb.client.logs('wt')).includes('COMMITTED') || undefined);
    const both = spawnSync(process.execPath, [CLI_MAIN, 'ctl', 'spawn', '--worktree', 'task1', '--workspace', repo, '--', 'true'], { cwd: repo, env: sb.env, encoding: 'utf8' });
    assert.equal(both.status, 64);
    const missing = spawnSync(process.execPath, [CLI_MAIN, 'ctl', 'spawn', '--worktree', 'nope', '--', 'true'], { cwd: repo, env: sb.env, encoding: 'utf8' });
    assert.equal(missing.status, 70);
    assert.match(missing.stderr, /no worktree named "nope"/);
  } finally {
    await cleanup(sb, daemon);
  }
});
