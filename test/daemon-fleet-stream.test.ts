import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { openDaemonWebSocket } from '../src/daemon/answer.js';
import type { AgentSummary } from '../src/daemon/agent-spec.js';
import { cleanup, makeSandbox, spawnAgent, waitFor, type Sandbox } from './daemon-harness.js';
import { loginLink, login, startDashboardDaemon, upgrade, type DashboardDaemon } from './dashboard-support.js';

type FleetMessage = { type: 'snapshot'; agents: AgentSummary[] } | { type: 'agent'; agent: AgentSummary } | { type: 'removed'; name: string };

let sb: Sandbox;
let d: DashboardDaemon;
before(async () => {
  sb = makeSandbox();
  d = await startDashboardDaemon(sb);
});
after(async () => cleanup(sb, d.daemon));

async function follow(): Promise<{ messages: FleetMessage[]; close: () => void }> {
  const ws = await openDaemonWebSocket(sb.client.socketPath, '/v1/agents/stream', 'fleet stream');
  const messages: FleetMessage[] = [];
  ws.on('message', (m) => messages.push(JSON.parse(String(m)) as FleetMessage));
  ws.resume();
  await waitFor('the snapshot', () => (messages.length > 0 ? true : undefined));
  return { messages, close: () => ws.close() };
}

test('the fleet stream sends the fleet, then each agent as it appears, changes and goes', { timeout: 60_000 }, async () => {
  await spawnAgent(sb, 'early', ['sh', '-c', 'echo early-up; exec sleep 300']);
  const { messages, close } = await follow();
  try {
    const first = messages[0]!;
    assert.equal(first.type, 'snapshot');
    assert.deepEqual(first.type === 'snapshot' && first.agents.map((a) => [a.name, a.state]), [['early', 'running']]);

    await spawnAgent(sb, 'late', ['sh', '-c', 'echo late-up; exec sleep 300']);
    const seen = (name: string, state: string) => () => messages.find((m) => m.type === 'agent' && m.agent.name === name && m.agent.state === state);
    await waitFor('late running, pushed', seen('late', 'running'));

    await sb.client.call('POST', '/v1/agents/early/kill', { signal: 'KILL' });
    const stopped = await waitFor('early stopped, pushed', seen('early', 'stopped'));
    // The whole agent object, as GET /v1/agents/early says once it has settled.
    assert.equal(stopped.type === 'agent' && stopped.agent.lastExit?.signal, 'SIGKILL');
    assert.deepEqual(stopped.type === 'agent' && stopped.agent, (await sb.client.call<{ agent: AgentSummary }>('GET', '/v1/agents/early')).agent);
    await waitFor('the last line, pushed', () => messages.find((m) => m.type === 'agent' && m.agent.name === 'late' && m.agent.lastLine === 'late-up'));

    await sb.client.call('DELETE', '/v1/agents/early');
    await waitFor('early removed, pushed', () => messages.find((m) => m.type === 'removed' && m.name === 'early'));
    assert.equal(messages.filter((m) => m.type === 'snapshot').length, 1, 'a client that keeps up gets one snapshot');
  } finally {
    close();
    await sb.client.call('POST', '/v1/agents/late/kill', { signal: 'KILL' }).catch(() => undefined);
  }
});

test('the fleet stream over plain HTTP is refused with 426 (an agent named "stream" is still reachable), and the dashboard serves it only with the session', { timeout: 60_000 }, async () => {
  const plain = await sb.client.raw('GET', '/v1/agents/stream');
  assert.equal(plain.status, 426);
  assert.match(plain.body.toString(), /WebSocket endpoint/);
  await spawnAgent(sb, 'stream', ['sleep', '300']);
  const named = await sb.client.raw('GET', '/v1/agents/stream');
  assert.equal(named.status, 200, 'GET /v1/agents/stream describes the agent named stream');
  await sb.client.call('POST', '/v1/agents/stream/kill', { signal: 'KILL' });

  assert.equal((await upgrade(d, '/v1/agents/stream', { host: d.host, origin: d.origin })).status, 401, 'no session cookie');
  const cookie = await login(d, loginLink(sb));
  assert.equal((await upgrade(d, '/v1/agents/stream', { host: d.host, origin: 'http://evil.example', cookie })).status, 403, 'a foreign origin');
  const open = await upgrade(d, '/v1/agents/stream', { host: d.host, origin: d.origin, cookie });
  assert.ok(open.ws, `with the session it opens (status ${open.status})`);
  const first = JSON.parse(await open.first!) as FleetMessage;
  assert.equal(first.type, 'snapshot');
  open.ws.close();
});
