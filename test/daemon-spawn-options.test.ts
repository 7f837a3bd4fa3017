import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { resolvePreset } from '../src/policy/presets/default.js';
import { taskName } from '../src/daemon/task-name.js';
import { parseEnvFile } from '../src/daemon/agent-env.js';
import { agent, CLI_MAIN, cleanup, makeSandbox, startDaemonProcess, waitFor } from './daemon-harness.js';

// What `ctl spawn` gives an agent beyond its command: a name that says its task, the
// preset of a known agent program, and environment of its own.

test('a known agent program gets its preset unless another or none is asked for', () => {
  assert.equal(resolvePreset(undefined, ['claude', '--print', 'x']), 'claude');
  assert.equal(resolvePreset(undefined, ['/usr/local/bin/codex', 'exec']), 'codex');
  assert.equal(resolvePreset(undefined, ['aider']), 'aider');
  assert.equal(resolvePreset(undefined, ['sh', '-c', 'claude']), undefined, 'only the program itself counts');
  assert.equal(resolvePreset(undefined, ['toString']), undefined, 'not a property of the table');
  assert.equal(resolvePreset('none', ['claude']), undefined);
  assert.equal(resolvePreset('codex', ['claude']), 'codex');
  assert.throws(() => resolvePreset('nope', ['claude']), /unknown preset "nope"/);
});

test('an agent is named by its task: the branch after agent/, else the directory, made unique', () => {
  assert.equal(taskName('/w/myproject-task-1', 'agent/task-1'), 'task-1');
  assert.equal(taskName('/w/myproject-task-1', 'agent/fix/login'), 'fix-login');
  assert.equal(taskName('/w/scratch', undefined), 'scratch');
  assert.equal(taskName('/w/scratch', 'main'), 'scratch');
  assert.equal(taskName('/w/.hidden dir', undefined), 'hidden-dir');
  const taken = new Set(['task-1', 'task-1-2']);
  assert.equal(taskName('/w/x', 'agent/task-1', (n) => taken.has(n)), 'task-1-3');
});

test('an env file reads KEY=VALUE lines, comments, export and quotes, and refuses what it cannot read', () => {
  const dir = makeSandbox().root;
  const file = join(dir, 'agent.env');
  writeFileSync(file, '# model settings\nANTHROPIC_BASE_URL=http://127.0.0.1:9/x=y\n\nexport ANTHROPIC_API_KEY="sk-test 1"\nEMPTY=\nQUOTED=\'a b\'\n');
  assert.deepEqual(parseEnvFile(file), { ANTHROPIC_BASE_URL: 'http://127.0.0.1:9/x=y', ANTHROPIC_API_KEY: 'sk-test 1', EMPTY: '', QUOTED: 'a b' });
  writeFileSync(file, 'NO_EQUALS\n');
  assert.throws(() => parseEnvFile(file), /agent\.env:1: expected KEY=VALUE/);
  writeFileSync(file, '1BAD=x\n');
  assert.throws(() => parseEnvFile(file), /invalid environment variable name/);
  assert.throws(() => parseEnvFile(join(dir, 'missing.env')), /cannot read the env file/);
});

test('ctl spawn names the agent by its task, applies the known agent\'s preset, and gives it --env and --env-file values that are never shown or audited', async () => {
  const sb = makeSandbox();
  // A stand-in `claude` that shows what it was given: its config dir (the preset's) and the env.
  const bin = join(sb.root, 'bin');
  mkdirSync(bin);
  writeFileSync(join(bin, 'claude'), '#!/bin/sh\necho "CONFIG=$CLAUDE_CONFIG_DIR MODEL=$MODEL_URL KEY=$API_KEY"\nexec sleep 300\n');
  chmodSync(join(bin, 'claude'), 0o755);
  sb.env.PATH = `${bin}:${sb.env.PATH}`;
  const daemon = await startDaemonProcess(sb);
  try {
    const repo = join(sb.root, 'myproject');
    mkdirSync(repo);
    const sh = (cmd: string) => spawnSync('sh', ['-c', cmd], { cwd: repo, env: sb.env, encoding: 'utf8' });
    assert.equal(sh('git init -q -b main && git -c user.email=t@e -c user.name=t commit -q --allow-empty -m init && git worktree add -q ../myproject-task-1 -b agent/task-1 main').status, 0);
    const envFile = join(sb.root, 'agent.env');
    writeFileSync(envFile, 'MODEL_URL=http://127.0.0.1:1\nAPI_KEY=from-file\n');
    const spawned = spawnSync(process.execPath, [CLI_MAIN, 'ctl', 'spawn', '--workspace', '../myproject-task-1', '--env-file', envFile, '--env', 'API_KEY=sk-secret-value', '--json', 'claude --print "hi"'], { cwd: repo, env: sb.env, encoding: 'utf8' });
    assert.equal(spawned.status, 0, spawned.stderr);
    const summary = JSON.parse(spawned.stdout);
    assert.equal(summary.name, 'task-1');
    assert.equal(summary.preset, 'claude');
    assert.deepEqual(summary.envKeys.sort(), ['API_KEY', 'MODEL_URL']);
    assert.equal('env' in summary, false, 'the answer carries no env values');
    // (lastLine is what the agent itself printed: this stand-in prints its key.)
    assert.doesNotMatch(JSON.stringify({ ...summary, lastLine: '' }), /sk-secret-value/);
    const line = await waitFor('the agent\'s output', async () => (await sb.client.logs('task-1')).toString().match(/CONFIG=.*KEY=\S+/)?.[0]);
    assert.match(line, /CONFIG=\S*\.claude-celistra\/agents\/\S+ MODEL=http:\/\/127\.0\.0\.1:1 KEY=sk-secret-value/);
    // A second agent on the same task gets a unique name; --preset none opts out.
    const second = spawnSync(process.execPath, [CLI_MAIN, 'ctl', 'spawn', '--workspace', '../myproject-task-1', '--preset', 'none', '--json', '--', 'sh', '-c', 'echo "CONFIG=[$CLAUDE_CONFIG_DIR]"; exec sleep 300'], { cwd: repo, env: sb.env, encoding: 'utf8' });
    assert.equal(second.status, 0, second.stderr);
    assert.equal(JSON.parse(second.stdout).name, 'task-1-2');
    assert.equal(JSON.parse(second.stdout).preset, null);
    assert.equal((await agent(sb, 'task-1-2')).preset, null);
    const history = spawnSync(process.execPath, [CLI_MAIN, 'history', 'task-1', '--event', 'spawn', '--json'], { cwd: repo, env: sb.env, encoding: 'utf8' });
    assert.equal(history.status, 0, history.stderr);
    assert.doesNotMatch(history.stdout, /sk-secret-value|from-file/, 'no value reaches the audit log');
    const spawnEvent = JSON.parse(history.stdout)[0];
    assert.deepEqual(spawnEvent.data.envGiven.sort(), ['API_KEY', 'MODEL_URL']);
    const bad = spawnSync(process.execPath, [CLI_MAIN, 'ctl', 'spawn', '--workspace', repo, '--env', 'NOEQUALS', '--', 'true'], { cwd: repo, env: sb.env, encoding: 'utf8' });
    assert.equal(bad.status, 64);
    assert.match(bad.stderr, /--env takes KEY=VALUE/);
  } finally {
    await cleanup(sb, daemon);
  }
});
