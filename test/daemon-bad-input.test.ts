import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { CLI_MAIN, agent, cleanup, makeSandbox, record, spawnAgent, startDaemonProcess, waitFor } from './daemon-harness.js';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { CelistraError } from '../src/policy/errors.js';

async function rawRequest(socketPath: string, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(socketPath, () => s.end(text));
    let out = '';
    s.on('data', (d) => (out += d.toString()));
    s.on('end', () => resolve(out));
    s.on('error', reject);
  });
}

test('bad requests get a 4xx with a message, and the daemon keeps serving', async () => {
  const sb = makeSandbox();
  const daemon = await startDaemonProcess(sb);
  try {
    const c = sb.client;
    const malformed = await c.raw('POST', '/v1/agents', undefined);
    assert.equal(malformed.status, 400, 'no body: no argv');
    const bad = await rawRequest(c.socketPath, 'POST /v1/agents HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 9\r\nconnection: close\r\n\r\n{"argv":[');
    assert.match(bad, /^HTTP\/1.1 400/);
    assert.match(bad, /malformed JSON body/);
    // Every time: the daemon reads a refused body to its end before the connection closes,
    // so the client's write is not cut short by EPIPE before the 413 arrives.
    for (let i = 0; i < 10; i++) {
      const big = await c.raw('POST', '/v1/agents', { argv: ['x'], pad: 'y'.repeat(2 * 1024 * 1024) });
      assert.equal(big.status, 413);
    }
    const garbage = await rawRequest(c.socketPath, 'NOT HTTP AT ALL\r\n\r\n');
    assert.doesNotMatch(garbage, /^HTTP\/1.1 2/);

    await assert.rejects(c.call('GET', '/v1/agents/nobody'), (e: CelistraError) => e.code === 'E_NOT_FOUND' && /nobody/.test(e.message));
    assert.equal((await c.raw('POST', '/v1/agents/nobody/kill', {})).status, 404);
    assert.equal((await c.raw('GET', '/v1/nothing-here')).status, 404);
    assert.equal((await c.raw('PUT', '/v1/agents')).status, 405);
    assert.equal((await c.raw('GET', '/v1/agents/x/logs?bytes=-3')).status, 400);
    await assert.rejects(c.call('POST', '/v1/agents', { argv: ['true'], workspace: `${sb.root}/missing`, backend: 'none' }), (e: CelistraError) => e.code === 'E_WORKSPACE');
    await assert.rejects(c.call('POST', '/v1/agents', { argv: ['true'], workspace: sb.workspace, backend: 'chroot' }), (e: CelistraError) => e.code === 'E_USAGE');
    await assert.rejects(c.call('POST', '/v1/agents', { argv: ['true'], workspace: sb.workspace, backend: 'none', name: '../etc' }), (e: CelistraError) => e.code === 'E_USAGE');
    await assert.rejects(c.call('POST', '/v1/agents', { argv: 'true', workspace: sb.workspace }), (e: CelistraError) => e.code === 'E_USAGE');
    await assert.rejects(c.call('POST', '/v1/agents', { argv: ['sleep', '300'], workspace: sb.workspace, backend: 'none', name: 'x', network: 'maybe' }), (e: CelistraError) => e.code === 'E_USAGE');

    await spawnAgent(sb, 'dup', ['sleep', '300']);
    await assert.rejects(spawnAgent(sb, 'dup', ['sleep', '300']), (e: CelistraError) => e.code === 'E_CONFLICT' && /already exists/.test(e.message));
    await assert.rejects(c.call('POST', '/v1/agents/dup/kill', { signal: 'USR1' }), (e: CelistraError) => e.code === 'E_USAGE');
    await assert.rejects(c.attach('nobody', {}), (e: CelistraError) => e.code === 'E_NOT_FOUND');

    const ws = await c.attach('dup', {});
    const rec = record(ws);
    await rec.first;
    ws.send('{not json');
    ws.send(JSON.stringify({ type: 'resize', cols: 'wide' }));
    ws.send(JSON.stringify({ type: 'teleport' }));
    const errors = await new Promise<string[]>((resolve) => {
      const got: string[] = [];
      ws.on('message', (d: Buffer, binary: boolean) => {
        if (!binary) got.push(JSON.parse(d.toString()).message);
        if (got.length === 3) resolve(got);
      });
    });
    assert.match(errors[0]!, /malformed JSON/);
    assert.match(errors[1]!, /numeric cols/);
    assert.match(errors[2]!, /unknown message type/);
    // A client that vanishes mid-stream.
    (ws as unknown as { _socket: { destroy(): void } })._socket.destroy();

    const status = await c.call<{ pid: number }>('GET', '/v1/status');
    assert.equal(status.pid, daemon.pid, 'the same daemon is still serving');
    assert.equal(daemon.proc.exitCode, null);

    const cli = spawnSync(process.execPath, [CLI_MAIN, 'ctl', 'kill', 'ghost'], { env: sb.env, encoding: 'utf8' });
    assert.equal(cli.status, 70);
    assert.match(cli.stderr, /no agent named "ghost"/);
    assert.doesNotMatch(cli.stderr, /\n\s+at /, 'no stack trace');
  } finally {
    await cleanup(sb, daemon);
  }
});

test('a second daemon refuses to start and names the running one', async () => {
  const sb = makeSandbox();
  const daemon = await startDaemonProcess(sb);
  try {
    const celistrad = fileURLToPath(new URL('../../bin/celistrad.js', import.meta.url));
    for (const argv of [[CLI_MAIN, 'daemon'], [celistrad]]) {
      const second = spawnSync(process.execPath, argv, { env: sb.env, encoding: 'utf8', timeout: 15_000 });
      assert.equal(second.status, 71, second.stderr);
      assert.match(second.stderr, new RegExp(`already running \\(pid ${daemon.pid}\\)`));
    }
    const status = await sb.client.call<{ pid: number }>('GET', '/v1/status');
    assert.equal(status.pid, daemon.pid);
  } finally {
    await cleanup(sb, daemon);
  }
});

test('the CLI says clearly when no daemon runs', async () => {
  const sb = makeSandbox();
  try {
    const r = spawnSync(process.execPath, [CLI_MAIN, 'ctl', 'ls'], { env: sb.env, encoding: 'utf8' });
    assert.equal(r.status, 72);
    assert.match(r.stderr, /daemon is not running/);
    assert.match(r.stderr, /celistra daemon start/);
  } finally {
    await cleanup(sb);
  }
});

test('the socket is 0600 in a 0700 directory, and SIGTERM stops the daemon but not the agents', async () => {
  const sb = makeSandbox();
  const daemon = await startDaemonProcess(sb);
  try {
    const { statSync } = await import('node:fs');
    assert.equal(statSync(sb.client.socketPath).mode & 0o777, 0o600);
    assert.equal(statSync(sb.paths.runtimeDir).mode & 0o777, 0o700);
    const a = await spawnAgent(sb, 'stay', ['sleep', '300']);
    daemon.proc.kill('SIGTERM');
    assert.equal(await daemon.exited, 0);
    process.kill(a.pid!, 0);
    const again = await startDaemonProcess(sb);
    try {
      const s = await sb.client.call<{ agent: { state: string; pid: number } }>('GET', '/v1/agents/stay');
      assert.equal(s.agent.state, 'running');
      assert.equal(s.agent.pid, a.pid);
    } finally {
      await cleanup(sb, again);
    }
  } finally {
    await cleanup(sb, daemon);
  }
});

test('a daemon agent gets run\'s path flags: --allow-write works, a relative or non-list path is refused', async () => {
  const sb = makeSandbox();
  const daemon = await startDaemonProcess(sb);
  try {
    const extra = `${sb.root}/extra`;
    mkdirSync(extra);
    // Without the grant the same write is refused: the grant, not a loose fence, lets it through.
    await spawnAgent(sb, 'fenced', ['sh', '-c', `echo made > ${extra}/by-fenced`], { backend: 'landlock' });
    await waitFor('the fenced agent to exit', async () => (await agent(sb, 'fenced')).state === 'exited');
    assert.equal(existsSync(`${extra}/by-fenced`), false);
    await spawnAgent(sb, 'writer', ['sh', '-c', `echo made > ${extra}/by-agent`], { backend: 'landlock', allowWrite: [extra] });
    await waitFor('the agent to write into its extra writable root', () => existsSync(`${extra}/by-agent`));
    assert.equal(readFileSync(`${extra}/by-agent`, 'utf8'), 'made\n');
    await assert.rejects(sb.client.call('POST', '/v1/agents', { argv: ['true'], workspace: sb.workspace, allowWrite: ['relative/dir'] }), (e: CelistraError) => e.code === 'E_USAGE' && /absolute/.test(e.message));
    await assert.rejects(sb.client.call('POST', '/v1/agents', { argv: ['true'], workspace: sb.workspace, denyRead: '/etc' }), (e: CelistraError) => e.code === 'E_USAGE');
    await assert.rejects(sb.client.call('POST', '/v1/agents', { argv: ['true'], workspace: sb.workspace, allowRead: ['~/.nothing-denied-here'] }), (e: CelistraError) => e.code === 'E_POLICY');
  } finally {
    await cleanup(sb, daemon);
  }
});
