import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { agent, CLI_MAIN, cleanup, isAlive, makeSandbox, record, render, spawnAgent, startDaemonProcess, waitFor } from './daemon-harness.js';

// Draws with cursor moves, so a raw byte replay and the real screen differ.
const DRAW = "printf '\\033[2J\\033[5;10HTOP-RIGHT\\033[12;3Hbottom line\\033[1;1Hfirst'; exec sleep 300";

function ctl(sb: ReturnType<typeof makeSandbox>, ...args: string[]) {
  return spawnSync(process.execPath, [CLI_MAIN, 'ctl', ...args], { env: sb.env, encoding: 'utf8' });
}

test('an agent goes through spawn, ls, logs, attach, kill, restart and rm', async () => {
  const sb = makeSandbox();
  const daemon = await startDaemonProcess(sb);
  try {
    const spawned = ctl(sb, 'spawn', '--workspace', sb.workspace, '--backend', 'none', '--name', 'draw', '--', 'sh', '-c', DRAW);
    assert.equal(spawned.status, 0, spawned.stderr);
    assert.match(spawned.stderr, /UNSANDBOXED/);
    const a = await agent(sb, 'draw');
    assert.equal(a.state, 'running');
    assert.ok(a.pid && isAlive(a.pid));

    const ls = ctl(sb, 'ls');
    assert.equal(ls.status, 0);
    assert.match(ls.stdout, /^draw\s+running\s+\d+/m);
    assert.match(ls.stdout, /UNSANDBOXED/);
    const lsJson = JSON.parse(ctl(sb, 'ls', '--json').stdout) as Array<{ name: string; backend: string; unsandboxed: boolean; lastLine: string }>;
    assert.equal(lsJson[0]!.name, 'draw');
    assert.equal(lsJson[0]!.backend, 'none');
    assert.equal(lsJson[0]!.unsandboxed, true);

    const logs = await waitFor('output in the scrollback', async () => {
      const b = await sb.client.logs('draw');
      return b.includes('bottom line') ? b : undefined;
    });
    assert.ok(logs.toString().includes('\x1b[5;10HTOP-RIGHT'), 'logs are the raw bytes');
    assert.equal((await sb.client.logs('draw', 5)).toString(), 'first');

    const ws = await sb.client.attach('draw', { replay: 'screen', cols: 80, rows: 24 });
    const rec = record(ws);
    const first = await rec.first;
    assert.equal(first.type, 'screen');
    assert.equal(rec.messages[0]!.binary, false, 'the screen is the first message');
    const lines = await render(first.cols, first.rows, first.data);
    assert.equal(lines[4]!.slice(9, 18), 'TOP-RIGHT');
    assert.equal(lines[11]!.trim(), 'bottom line');
    assert.equal(lines[0]!.trim(), 'first');
    ws.send(Buffer.from('x'), { binary: true });

    const killed = ctl(sb, 'kill', 'draw', '--signal', 'KILL');
    assert.equal(killed.status, 0, killed.stderr);
    const closed = await rec.closed;
    assert.equal(closed.code, 1000);
    assert.match(closed.reason, /exited with status 137/);
    const stopped = await waitFor('stopped', async () => ((await agent(sb, 'draw')).state === 'stopped' ? agent(sb, 'draw') : undefined));
    assert.equal(stopped.pid, null);
    assert.equal(isAlive(a.pid!), false);
    assert.ok((await sb.client.logs('draw')).includes('bottom line'), 'scrollback is kept after the exit');

    const rmRunning = ctl(sb, 'restart', 'draw');
    assert.equal(rmRunning.status, 0, rmRunning.stderr);
    const again = await agent(sb, 'draw');
    assert.equal(again.state, 'running');
    assert.equal(again.restarts, 1);
    assert.notEqual(again.pid, a.pid);

    const refused = ctl(sb, 'rm', 'draw');
    assert.equal(refused.status, 71, 'a running agent is not removed');
    assert.match(refused.stderr, /is running/);
    assert.equal(ctl(sb, 'kill', 'draw').status, 0);
    await waitFor('stopped again', async () => (await agent(sb, 'draw')).state === 'stopped');
    const rm = ctl(sb, 'rm', 'draw');
    assert.equal(rm.status, 0, rm.stderr);
    const after = JSON.parse(ctl(sb, 'ls', '--json').stdout) as unknown[];
    assert.deepEqual(after, []);
    const gone = ctl(sb, 'logs', 'draw');
    assert.equal(gone.status, 70);
  } finally {
    await cleanup(sb, daemon);
  }
});

test('ctl send types text and Enter into the agent', async () => {
  const sb = makeSandbox();
  const daemon = await startDaemonProcess(sb);
  try {
    await spawnAgent(sb, 'reader', ['sh', '-c', 'read line; echo "got:$line"; exec sleep 300']);
    const sent = ctl(sb, 'send', 'reader', 'hello there');
    assert.equal(sent.status, 0, sent.stderr);
    await waitFor('the echo', async () => (await sb.client.logs('reader')).includes('got:hello there'));
  } finally {
    await cleanup(sb, daemon);
  }
});

test('the single-string command form is split like a shell would', async () => {
  const sb = makeSandbox();
  const daemon = await startDaemonProcess(sb);
  try {
    const r = ctl(sb, 'spawn', '--workspace', sb.workspace, '--backend', 'none', '--name', 'one', `sh -c 'echo "a  b"; exec sleep 300'`);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual((await agent(sb, 'one')).argv, ['sh', '-c', 'echo "a  b"; exec sleep 300']);
    await waitFor('its output', async () => (await sb.client.logs('one')).includes('a  b'));
    const bad = ctl(sb, 'spawn', '--workspace', sb.workspace, '--backend', 'none', '--name', 'two', 'echo hi | cat');
    assert.equal(bad.status, 64);
    assert.match(bad.stderr, /needs a shell/);
  } finally {
    await cleanup(sb, daemon);
  }
});
