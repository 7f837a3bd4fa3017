/**
 * Where the dashboard listens: dashboard.json in the config dir, the flags over it, and
 * an explicit bind beyond loopback (warned about, still behind the login, Host and Origin
 * checked against the names that reach the bound address).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { allowedHostHeaders, loadDashboardConfig } from '../src/daemon/dashboard/config.js';
import { CLI_MAIN, cleanup, makeSandbox, spawnAgent, startDaemonProcess, type Sandbox } from './daemon-harness.js';
import { dashboardCommand, rawRequest } from './dashboard-support.js';

function writeConfig(sb: Sandbox, config: unknown): void {
  mkdirSync(sb.paths.configDir, { recursive: true });
  writeFileSync(join(sb.paths.configDir, 'dashboard.json'), typeof config === 'string' ? config : JSON.stringify(config));
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

type Status = { dashboard: { url: string | null; port: number | null; host?: string; exposed?: boolean } };

/** This machine's first non-loopback IPv4 address, if it has one. */
const LAN = Object.values(networkInterfaces())
  .flat()
  .find((a) => a && a.family === 'IPv4' && !a.internal)?.address;
const noLan = LAN ? false : 'this machine has no non-loopback IPv4 address to bind';

/** Log in through a link whose address is `address`, sending Host as the browser would. */
async function loginAt(sb: Sandbox, address: string, port: number): Promise<string> {
  const r = dashboardCommand(sb, '--json');
  assert.equal(r.status, 0, r.stderr);
  const link = new URL((JSON.parse(r.stdout) as { url: string }).url);
  const res = await rawRequest(port, 'GET', link.pathname + link.search, { host: link.host }, undefined, address);
  assert.equal(res.status, 303, res.body);
  return String(res.headers['set-cookie']).split(';')[0]!;
}

test('the port comes from dashboard.json in the config dir when no flag is given, and the flag wins over it', async () => {
  const sb = makeSandbox();
  const port = await freePort();
  writeConfig(sb, { port });
  let daemon = await startDaemonProcess(sb);
  try {
    const s = await sb.client.call<Status>('GET', '/v1/status');
    assert.equal(s.dashboard.port, port);
    assert.equal(s.dashboard.url, `http://127.0.0.1:${port}/`);
    assert.equal(s.dashboard.exposed, false);
    daemon.proc.kill('SIGTERM');
    await daemon.exited;
    daemon = await startDaemonProcess(sb, ['--dashboard-port', '0']);
    const flagged = (await sb.client.call<Status>('GET', '/v1/status')).dashboard;
    assert.ok(flagged.port !== null && flagged.port !== port, `the flag wins: ${JSON.stringify(flagged)}`);
  } finally {
    await cleanup(sb, daemon);
  }
});

test('"port": "off" in dashboard.json starts no listener', async () => {
  const sb = makeSandbox();
  writeConfig(sb, { port: 'off' });
  const daemon = await startDaemonProcess(sb);
  try {
    assert.equal((await sb.client.call<Status>('GET', '/v1/status')).dashboard.url, null);
    assert.equal(dashboardCommand(sb).status, 71);
  } finally {
    await cleanup(sb, daemon);
  }
});

test('a malformed dashboard.json stops the daemon from starting, naming the file and what is wrong', async () => {
  for (const [config, why] of [
    ['{"port": 70000}', /"port" in .*dashboard\.json must be a port number \(0-65535\) or off, not 70000/],
    ['{"host": "localhost"}', /"host" in .*dashboard\.json must be an IP address/],
    ['{"prot": 1}', /dashboard\.json: unknown key "prot"/],
    ['{"allowedHosts": ["evil.example:80"]}', /"allowedHosts" in .*must be a list of host names/],
    ['not json', /dashboard\.json is not JSON/],
  ] as const) {
    const sb = makeSandbox();
    try {
      writeConfig(sb, config);
      await assert.rejects(startDaemonProcess(sb), why);
    } finally {
      await cleanup(sb);
    }
  }
});

test('a bad --dashboard-host is a usage error', async () => {
  const sb = makeSandbox();
  try {
    await assert.rejects(startDaemonProcess(sb, ['--dashboard-host', 'my-laptop']), /--dashboard-host must be an IP address/);
  } finally {
    await cleanup(sb);
  }
});

test('bound to a LAN address on request: warned about in the log and by celistra dashboard, still behind the login, Host and Origin checked for that address', { skip: noLan }, async () => {
  const sb = makeSandbox();
  const port = await freePort();
  const daemon = await startDaemonProcess(sb, ['--dashboard-host', LAN!, '--dashboard-port', String(port)]);
  try {
    await spawnAgent(sb, 'one', ['sleep', '300']);
    const s = (await sb.client.call<Status>('GET', '/v1/status')).dashboard;
    assert.deepEqual([s.url, s.host, s.exposed], [`http://${LAN}:${port}/`, LAN, true]);
    assert.match(daemon.stderr(), /WARNING: the dashboard listens on .* beyond loopback: other machines can reach it\. .*plain HTTP/);
    const cmd = dashboardCommand(sb);
    assert.equal(cmd.status, 0);
    assert.match(cmd.stdout, new RegExp(`^http://${LAN!.replace(/\./g, '\\.')}:${port}/login\\?token=`));
    assert.match(cmd.stderr, /warning: the dashboard listens on .* beyond loopback/);
    const status = spawnSync(process.execPath, [CLI_MAIN, 'daemon', 'status'], { env: sb.env, encoding: 'utf8' }).stdout;
    assert.match(status, /, dashboard http:\/\/.* \(beyond loopback: other machines can reach it\)$/m);

    const host = `${LAN}:${port}`;
    const noCookie = await rawRequest(port, 'GET', '/v1/agents', { host }, undefined, LAN);
    assert.equal(noCookie.status, 401, 'the login is still needed');
    const cookie = await loginAt(sb, LAN!, port);
    assert.equal((await rawRequest(port, 'GET', '/v1/agents', { host, cookie }, undefined, LAN)).status, 200);
    for (const other of [`127.0.0.1:${port}`, `localhost:${port}`, `rebound.example:${port}`]) {
      assert.equal((await rawRequest(port, 'GET', '/v1/agents', { host: other, cookie }, undefined, LAN)).status, 403, `Host ${other} is refused`);
    }
    const foreign = await rawRequest(port, 'POST', '/v1/agents/one/kill', { host, cookie, origin: 'http://evil.example' }, '{"signal":"KILL"}', LAN);
    assert.equal(foreign.status, 403);
    assert.equal((await sb.client.listAgents()).find((a) => a.name === 'one')?.state, 'running', 'the refused kill changed nothing');
    await assert.rejects(rawRequest(port, 'GET', '/', { host: `127.0.0.1:${port}` }), /ECONNREFUSED/, 'loopback is not bound');
  } finally {
    await cleanup(sb, daemon);
  }
});

test('bound to every interface: loopback, the interface addresses and the configured names are the Hosts it answers to, nothing else', async () => {
  const sb = makeSandbox();
  const port = await freePort();
  writeConfig(sb, { host: '0.0.0.0', port, allowedHosts: ['devbox.example'] });
  const daemon = await startDaemonProcess(sb);
  try {
    const cookie = await loginAt(sb, '127.0.0.1', port);
    const status = async (host: string) => (await rawRequest(port, 'GET', '/v1/agents', { host, cookie })).status;
    assert.equal(await status(`127.0.0.1:${port}`), 200);
    assert.equal(await status(`devbox.example:${port}`), 200);
    assert.equal(await status(`DevBox.Example:${port}`), 200, 'host names are case-insensitive');
    if (LAN) assert.equal(await status(`${LAN}:${port}`), 200);
    assert.equal(await status(`other.example:${port}`), 403);
    assert.equal(await status(`devbox.example:${port + 1}`), 403);
  } finally {
    await cleanup(sb, daemon);
  }
});

test('configured names never widen a loopback listener', () => {
  assert.deepEqual([...allowedHostHeaders('127.0.0.1', 8000, ['devbox.example'])].sort(), ['127.0.0.1:8000', 'localhost:8000']);
});

test('no dashboard.json is an empty config', () => {
  const sb = makeSandbox();
  assert.deepEqual(loadDashboardConfig(sb.paths.configDir), {});
});
