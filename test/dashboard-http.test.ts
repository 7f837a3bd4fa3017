import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { connect, createServer, type AddressInfo } from 'node:net';
import type { AgentSummary } from '../src/daemon/agent-spec.js';
import { agent, CLI_MAIN, cleanup, makeSandbox, record, sleep, spawnAgent, startDaemonProcess, waitFor, type Sandbox } from './daemon-harness.js';
import { dashboardCommand, login, loginLink, rawRequest, startDashboardDaemon, upgrade, type DashboardDaemon } from './dashboard-support.js';

function daemonStatus(sb: Sandbox): string {
  return spawnSync(process.execPath, [CLI_MAIN, 'daemon', 'status'], { env: sb.env, encoding: 'utf8' }).stdout;
}

const LOOP = ['sh', '-c', 'echo ready; while read x; do echo "got $x"; done'];

async function withDashboard(body: (sb: Sandbox, d: DashboardDaemon) => Promise<void>): Promise<void> {
  const sb = makeSandbox();
  let d: DashboardDaemon | undefined;
  try {
    d = await startDashboardDaemon(sb);
    await body(sb, d);
  } finally {
    await cleanup(sb, d?.daemon);
  }
}

test('the login link works once: it sets an HttpOnly SameSite=Strict cookie and redirects to the page', () =>
  withDashboard(async (sb, d) => {
    const link = loginLink(sb);
    assert.match(link, new RegExp(`^http://127\\.0\\.0\\.1:${d.port}/login\\?token=[A-Za-z0-9_-]{43}$`));
    const url = new URL(link);
    const first = await rawRequest(d.port, 'GET', url.pathname + url.search, { host: d.host });
    assert.equal(first.status, 303);
    assert.equal(first.headers.location, '/');
    const cookie = String(first.headers['set-cookie']);
    assert.match(cookie, /^celistra_session=[A-Za-z0-9_-]{43}; HttpOnly; SameSite=Strict; Path=\//);
    assert.equal(first.headers['referrer-policy'], 'no-referrer');
    const second = await rawRequest(d.port, 'GET', url.pathname + url.search, { host: d.host });
    assert.equal(second.status, 401, 'a spent token is refused');
    assert.equal(second.headers['set-cookie'], undefined);
  }));

test('a HEAD request on the login link (a link preview) does not spend the token', () =>
  withDashboard(async (sb, d) => {
    const link = new URL(loginLink(sb));
    const head = await rawRequest(d.port, 'HEAD', link.pathname + link.search, { host: d.host });
    assert.notEqual(head.status, 303);
    assert.equal(head.headers['set-cookie'], undefined);
    const get = await rawRequest(d.port, 'GET', link.pathname + link.search, { host: d.host });
    assert.equal(get.status, 303, 'the link still works');
  }));

test('the API over the dashboard answers with the session cookie, as over the unix socket', () =>
  withDashboard(async (sb, d) => {
    await spawnAgent(sb, 'one', LOOP);
    const cookie = await login(d, loginLink(sb));
    const res = await rawRequest(d.port, 'GET', '/v1/agents', { host: d.host, cookie });
    assert.equal(res.status, 200);
    const viaTcp = (JSON.parse(res.body) as { agents: AgentSummary[] }).agents.map((a) => a.name);
    const viaSocket = (await sb.client.listAgents()).map((a) => a.name);
    assert.deepEqual(viaTcp, viaSocket);
    assert.deepEqual(viaTcp, ['one']);
  }));

test('requests without the session cookie, or with a made-up one, are refused with 401', () =>
  withDashboard(async (sb, d) => {
    await spawnAgent(sb, 'one', LOOP);
    const attempts: Array<Record<string, string>> = [{ host: d.host }, { host: d.host, cookie: 'celistra_session=forged' }];
    for (const headers of attempts) {
      const list = await rawRequest(d.port, 'GET', '/v1/agents', headers);
      assert.equal(list.status, 401);
      assert.doesNotMatch(list.body, /"one"/, 'no agent data in the refusal');
      const kill = await rawRequest(d.port, 'POST', '/v1/agents/one/kill', { ...headers, origin: d.origin }, '{"signal":"KILL"}');
      assert.equal(kill.status, 401);
      for (const path of ['/v1/events/stream?after=0', '/v1/agents/stream']) {
        const ws = await upgrade(d, path, { ...headers, origin: d.origin });
        assert.equal(ws.status, 401, path);
      }
    }
    assert.equal((await agent(sb, 'one')).state, 'running', 'the refused kill did nothing');
  }));

test('a Host header that does not name the dashboard is refused, even with a session (DNS rebinding)', () =>
  withDashboard(async (sb, d) => {
    await spawnAgent(sb, 'one', LOOP);
    const cookie = await login(d, loginLink(sb));
    for (const host of [`evil.example:${d.port}`, `127.0.0.1:${d.port + 1}`, '127.0.0.1', `127.0.0.1:${d.port}.evil.example`]) {
      const res = await rawRequest(d.port, 'GET', '/v1/agents', { host, cookie });
      assert.equal(res.status, 403, `Host ${JSON.stringify(host)}`);
      assert.doesNotMatch(res.body, /"one"/);
      const page = await rawRequest(d.port, 'GET', '/', { host });
      assert.equal(page.status, 403, 'not even the page shell');
    }
    const link = new URL(loginLink(sb));
    const rebound = await rawRequest(d.port, 'GET', link.pathname + link.search, { host: `evil.example:${d.port}` });
    assert.equal(rebound.status, 403, 'no login through a rebound name');
    assert.equal(rebound.headers['set-cookie'], undefined);
    const ws = await upgrade(d, '/v1/events/stream', { host: `evil.example:${d.port}`, origin: `http://evil.example:${d.port}`, cookie });
    assert.equal(ws.status, 403);
    const noHost = await new Promise<string>((resolve) => {
      // HTTP/1.0 may omit Host (node's client always sends one): that is refused too.
      const socket = connect(d.port, '127.0.0.1', () => socket.end(`GET /v1/agents HTTP/1.0\r\nCookie: ${cookie}\r\n\r\n`));
      let text = '';
      socket.on('data', (c) => (text += c.toString()));
      socket.on('close', () => resolve(text));
    });
    assert.match(noHost, /^HTTP\/1\.[01] 403 /);
    assert.doesNotMatch(noHost, /"one"/);
    const localhost = await rawRequest(d.port, 'GET', '/v1/agents', { host: `localhost:${d.port}`, cookie });
    assert.equal(localhost.status, 200, 'localhost:PORT is the same dashboard');
  }));

test('state-changing requests from a foreign Origin, or none, are refused and change nothing', () =>
  withDashboard(async (sb, d) => {
    const before = await spawnAgent(sb, 'one', LOOP);
    const cookie = await login(d, loginLink(sb));
    for (const origin of ['http://evil.example', `http://localhost:${d.port}`, 'null', undefined]) {
      const headers: Record<string, string> = { host: d.host, cookie };
      if (origin !== undefined) headers.origin = origin;
      const kill = await rawRequest(d.port, 'POST', '/v1/agents/one/kill', headers, '{"signal":"KILL"}');
      assert.equal(kill.status, 403, `Origin ${origin}`);
      const rm = await rawRequest(d.port, 'DELETE', '/v1/agents/one', headers);
      assert.equal(rm.status, 403);
      const spawn = await rawRequest(d.port, 'POST', '/v1/agents', headers, JSON.stringify({ name: 'planted', argv: ['true'], workspace: sb.workspace }));
      assert.equal(spawn.status, 403);
    }
    const after = await agent(sb, 'one');
    assert.equal(after.state, 'running');
    assert.equal(after.pid, before.pid, 'the same process still runs');
    assert.deepEqual((await sb.client.listAgents()).map((a) => a.name), ['one'], 'nothing was spawned');
    const sameOrigin = await rawRequest(d.port, 'POST', '/v1/agents/one/kill', { host: d.host, cookie, origin: d.origin }, '{"signal":"INT"}');
    assert.equal(sameOrigin.status, 200, 'the page\'s own origin may act');
    await waitFor('stopped', async () => (await agent(sb, 'one')).state === 'stopped' || undefined);
  }));

test('WebSocket upgrades need the same Origin: attach, the event stream and the fleet stream', () =>
  withDashboard(async (sb, d) => {
    await spawnAgent(sb, 'one', LOOP);
    await waitFor('ready', async () => (await sb.client.logs('one')).includes('ready') || undefined);
    const cookie = await login(d, loginLink(sb));
    for (const path of ['/v1/agents/one/attach', '/v1/events/stream', '/v1/agents/stream']) {
      assert.equal((await upgrade(d, path, { cookie, origin: 'http://evil.example' })).status, 403, path);
      assert.equal((await upgrade(d, path, { cookie })).status, 403, `${path} without Origin`);
    }
    const ok = await upgrade(d, '/v1/agents/one/attach', { cookie, origin: d.origin });
    assert.ok(ok.ws, 'same origin with the session attaches');
    ok.ws.pause();
    const rec = record(ok.ws);
    const screen = await rec.first;
    assert.equal(screen.type, 'screen');
    assert.match(screen.data, /ready/);
    ok.ws.send(Buffer.from('hello\r'), { binary: true });
    await waitFor('the echo', () => rec.outputTail().includes('got hello') || undefined);
    ok.ws.close();
  }));

test('the login endpoint is only on the unix socket, and the daemon logs no token or cookie', () =>
  withDashboard(async (sb, d) => {
    const link = loginLink(sb);
    const token = new URL(link).searchParams.get('token')!;
    const cookie = await login(d, link);
    const viaTcp = await rawRequest(d.port, 'POST', '/v1/dashboard/login', { host: d.host, cookie, origin: d.origin }, '{}');
    assert.equal(viaTcp.status, 404);
    assert.doesNotMatch(viaTcp.body, /token=/);
    await rawRequest(d.port, 'GET', '/v1/agents', { host: d.host, cookie });
    await rawRequest(d.port, 'GET', `/login?token=${token}`, { host: d.host });
    await sleep(100);
    const log = d.daemon.stderr();
    assert.match(log, new RegExp(`dashboard on http://127\\.0\\.0\\.1:${d.port}/`), 'the log names the dashboard');
    assert.ok(!log.includes(token), 'no token in the log');
    assert.ok(!log.includes(cookie.split('=')[1]!), 'no session in the log');
  }));

test('the page shell is served without a session, with a strict content security policy', () =>
  withDashboard(async (_sb, d) => {
    const page = await rawRequest(d.port, 'GET', '/', { host: d.host });
    assert.equal(page.status, 200);
    assert.match(page.body, /<script type="module" src="\/app\.js">/);
    assert.match(String(page.headers['content-security-policy']), /script-src 'self';.*frame-ancestors 'none'/);
    assert.equal(page.headers['x-frame-options'], 'DENY');
    const js = await rawRequest(d.port, 'GET', '/app.js', { host: d.host });
    assert.equal(js.status, 200);
    assert.match(String(js.headers['content-type']), /^text\/javascript/);
    const other = await rawRequest(d.port, 'GET', '/../../package.json', { host: d.host });
    assert.equal(other.status, 401, 'nothing else is served without a session');
  }));

test('--dashboard-port off: no listener, and `celistra dashboard` says why', async () => {
  const sb = makeSandbox();
  const daemon = await startDaemonProcess(sb, ['--dashboard-port', 'off']);
  try {
    const status = await sb.client.call<{ dashboard: { url: string | null } }>('GET', '/v1/status');
    assert.equal(status.dashboard.url, null);
    const r = dashboardCommand(sb);
    assert.equal(r.status, 71);
    assert.match(r.stderr, /the dashboard is off/);
    assert.equal(r.stdout, '');
    assert.match(daemonStatus(sb), /, dashboard off$/m);
  } finally {
    await cleanup(sb, daemon);
  }
});

test('daemon status names the dashboard\'s URL, port 0 resolved to the chosen one', () =>
  withDashboard(async (sb, d) => {
    assert.match(daemonStatus(sb), new RegExp(`, dashboard http://127\\.0\\.0\\.1:${d.port}/$`, 'm'));
  }));

test('a taken port leaves the daemon running without a dashboard, and `celistra dashboard` says why', async () => {
  const sb = makeSandbox();
  const squatter = createServer();
  await new Promise<void>((r) => squatter.listen(0, '127.0.0.1', () => r()));
  const port = (squatter.address() as AddressInfo).port;
  let daemon: Awaited<ReturnType<typeof startDaemonProcess>> | undefined;
  try {
    daemon = await startDaemonProcess(sb, ['--dashboard-port', String(port)]);
    await spawnAgent(sb, 'one', LOOP);
    assert.equal((await agent(sb, 'one')).state, 'running', 'the agents are served');
    const status = await sb.client.call<{ dashboard: { url: string | null; reason: string } }>('GET', '/v1/status');
    assert.equal(status.dashboard.url, null);
    assert.match(status.dashboard.reason, new RegExp(`could not listen on 127\\.0\\.0\\.1:${port}: .*EADDRINUSE`));
    const r = dashboardCommand(sb);
    assert.equal(r.status, 71);
    assert.match(r.stderr, /could not listen/);
    assert.match(daemon.stderr(), /could not listen/);
  } finally {
    squatter.close();
    await cleanup(sb, daemon);
  }
});

test('a bad --dashboard-port is a usage error', async () => {
  const sb = makeSandbox();
  try {
    await assert.rejects(startDaemonProcess(sb, ['--dashboard-port', '70000']), /--dashboard-port must be a port number \(0-65535\) or off, not "70000"/);
  } finally {
    await cleanup(sb);
  }
});
