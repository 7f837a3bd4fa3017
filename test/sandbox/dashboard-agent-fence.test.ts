import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backendByName } from '../../src/run/backend-selection.js';
import type { BackendName } from '../../src/backends/backend.js';
import { agent, cleanup, makeSandbox, spawnAgent, waitFor } from '../daemon-harness.js';
import { startDashboardDaemon, type DashboardDaemon } from '../dashboard-support.js';

for (const backend of ['landlock', 'bwrap'] as BackendName[]) {
  const caps = backendByName(backend).probe();
  test(`under ${backend}, an agent with network reaches the dashboard's port but gets no token, no data and no action`, { skip: caps.available ? false : `${backend}: ${caps.unavailableReason}` }, async () => {
    const sb = makeSandbox();
    let d: DashboardDaemon | undefined;
    try {
      d = await startDashboardDaemon(sb);
      const victim = await spawnAgent(sb, 'victim', ['sleep', '300'], { backend });
      // Every header a browser page would send, forged: only the session cookie is missing.
      const headers = JSON.stringify({ host: d.host, origin: d.origin, 'content-type': 'application/json' });
      const probe = [
        `const http = require('http');`,
        `const ask = (o, body) => new Promise((r) => { const q = http.request(o, (res) => { let t = ''; res.on('data', (c) => t += c); res.on('end', () => r(res.statusCode + ' ' + t.slice(0, 200))); }); q.on('error', (e) => r(e.code)); q.end(body); });`,
        `const tcp = (method, path, body) => ask({ host: '127.0.0.1', port: ${d.port}, method, path, headers: ${headers} }, body);`,
        `(async () => {`,
        `  console.log('token-via-socket=' + await ask({ socketPath: ${JSON.stringify(sb.client.socketPath)}, method: 'POST', path: '/v1/dashboard/login' }, '{}'));`,
        `  console.log('token-via-tcp=' + await tcp('POST', '/v1/dashboard/login', '{}'));`,
        `  console.log('list=' + await tcp('GET', '/v1/agents'));`,
        `  console.log('kill=' + await tcp('POST', '/v1/agents/victim/kill', '{"signal":"KILL"}'));`,
        `  console.log('spawn=' + await tcp('POST', '/v1/agents', '{"name":"planted","argv":["true"],"workspace":"/"}'));`,
        `  console.log('login=' + await tcp('GET', '/login?token=guess'));`,
        `  console.log('probe-done');`,
        `})();`,
      ].join('\n');
      const a = await spawnAgent(sb, 'attacker', [process.execPath, '-e', probe], { backend, network: 'on' });
      assert.equal(a.backend, backend);
      await waitFor('the probe to finish', async () => (await sb.client.logs('attacker')).includes('probe-done') || undefined);
      const out = (await sb.client.logs('attacker')).toString();
      assert.match(out, /token-via-socket=E[A-Z]+/, `the control socket is out of reach: ${out}`);
      assert.match(out, /token-via-tcp=40[14] /, out);
      assert.doesNotMatch(out, /token=[A-Za-z0-9_-]{43}/, 'no login token anywhere');
      for (const what of ['list', 'kill', 'spawn', 'login']) assert.match(out, new RegExp(`${what}=401 `), `${what}: ${out}`);
      assert.doesNotMatch(out, /"victim"/, 'no agent data leaked');
      const after = await agent(sb, 'victim');
      assert.equal(after.state, 'running');
      assert.equal(after.pid, victim.pid, 'the victim was not touched');
      assert.deepEqual((await sb.client.listAgents()).map((x) => x.name).sort(), ['attacker', 'victim'], 'nothing was spawned');
    } finally {
      await cleanup(sb, d?.daemon);
    }
  });
}
