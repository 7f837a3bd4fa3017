/**
 * Approvals through the dashboard: the same queue as `celistra approve/deny`, behind the
 * session and Origin checks, and recorded as answered by the dashboard whatever the page
 * (or a forger with the cookie) puts in the body.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ApprovalView } from '../src/approvals/request.js';
import { cleanup, makeSandbox, spawnAgent, waitFor, type Sandbox } from './daemon-harness.js';
import { login, loginLink, rawRequest, startDashboardDaemon, upgrade } from './dashboard-support.js';

const ASK = '"$CELISTRA_NODE" "$CELISTRA_CLI" ask';

async function pending(sb: Sandbox, text: string): Promise<ApprovalView> {
  return waitFor(`"${text}" pending`, async () => (await sb.client.call<{ approvals: ApprovalView[] }>('GET', '/v1/approvals')).approvals.find((a) => a.text === text), 30_000);
}

test('an approval answered through the dashboard reaches the asking agent, recorded as by dashboard even when the body claims cli', async () => {
  const sb = makeSandbox();
  const d = await startDashboardDaemon(sb);
  try {
    await spawnAgent(sb, 'asker', ['sh', '-c', `${ASK} "push to main?"; echo "answer=$?"; sleep 300`]);
    const req = await pending(sb, 'push to main?');
    const cookie = await login(d, loginLink(sb));
    const body = JSON.stringify({ by: 'cli' });

    const noOrigin = await rawRequest(d.port, 'POST', `/v1/approvals/${req.id}/approve`, { host: d.host, cookie }, body);
    assert.equal(noOrigin.status, 403);
    const noCookie = await rawRequest(d.port, 'POST', `/v1/approvals/${req.id}/approve`, { host: d.host, origin: d.origin }, body);
    assert.equal(noCookie.status, 401);
    const badHost = await rawRequest(d.port, 'POST', `/v1/approvals/${req.id}/approve`, { host: `rebound.example:${d.port}`, origin: `http://rebound.example:${d.port}`, cookie }, body);
    assert.equal(badHost.status, 403);
    assert.equal((await pending(sb, 'push to main?')).state, 'pending', 'the refused answers changed nothing');

    const ok = await rawRequest(d.port, 'POST', `/v1/approvals/${req.id}/approve`, { host: d.host, origin: d.origin, cookie }, body);
    assert.equal(ok.status, 200, ok.body);
    const answered = (JSON.parse(ok.body) as { approval: ApprovalView }).approval;
    assert.deepEqual([answered.state, answered.by], ['approved', 'dashboard']);
    await waitFor('the agent\'s answer', async () => (await sb.client.logs('asker')).toString().includes('answer=0') || undefined, 30_000);
    const again = await rawRequest(d.port, 'POST', `/v1/approvals/${req.id}/deny`, { host: d.host, origin: d.origin, cookie }, '{}');
    assert.equal(again.status, 409, 'the first answer wins');
    const audited = await sb.client.call<{ events: Array<{ data: { action: string; by?: string } }> }>('GET', '/v1/events?type=approval');
    assert.ok(audited.events.some((e) => e.data.action === 'approved' && e.data.by === 'dashboard'), JSON.stringify(audited.events.map((e) => e.data)));
  } finally {
    await cleanup(sb, d.daemon);
  }
});

test('the approvals stream needs the session and the page\'s Origin', { timeout: 60_000 }, async () => {
  const sb = makeSandbox();
  const d = await startDashboardDaemon(sb);
  try {
    const cookie = await login(d, loginLink(sb));
    assert.equal((await upgrade(d, '/v1/approvals/stream', { host: d.host, origin: d.origin })).status, 401);
    assert.equal((await upgrade(d, '/v1/approvals/stream', { host: d.host, origin: 'http://evil.example', cookie })).status, 403);
    const open = await upgrade(d, '/v1/approvals/stream', { host: d.host, origin: d.origin, cookie });
    assert.ok(open.ws, 'the page itself is let in');
    const first = await open.first!;
    assert.deepEqual(JSON.parse(first), { type: 'snapshot', approvals: [] });
    open.ws!.close();
  } finally {
    await cleanup(sb, d.daemon);
  }
});
