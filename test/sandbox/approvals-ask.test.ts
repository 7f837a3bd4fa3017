import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { backendByName } from '../../src/run/backend-selection.js';
import type { BackendName } from '../../src/backends/backend.js';
import type { ApprovalView } from '../../src/approvals/request.js';
import { agent, cleanup, CLI_MAIN, makeSandbox, spawnAgent, startDaemonProcess, waitFor } from '../daemon-harness.js';
import { taskWorktreeSkip } from '../support/fence-skip.js';

const ASK = '"$CELISTRA_NODE" "$CELISTRA_CLI" ask';

for (const backend of ['landlock', 'bwrap'] as BackendName[]) {
  const skip = taskWorktreeSkip(backend);

  test(`under ${backend} with --net off, celistra ask exits 0 approved, 1 denied, 2 expired, and ctl ls shows the agent waiting`, { skip, timeout: 120_000 }, async () => {
    const sb = makeSandbox();
    const daemon = await startDaemonProcess(sb);
    try {
      const script = `${ASK} one; echo "one=$?"; ${ASK} two; echo "two=$?"; ${ASK} three --timeout 1; echo "three=$?"; sleep 60`;
      await spawnAgent(sb, 'asker', ['sh', '-c', script], { backend, network: 'off' });
      const pendingText = async (text: string) =>
        waitFor(`"${text}" pending`, async () => (await sb.client.call<{ approvals: ApprovalView[] }>('GET', '/v1/approvals')).approvals.find((a) => a.text === text), 30_000);
      const one = await pendingText('one');
      const a = await agent(sb, 'asker');
      assert.equal(a.approvals?.count, 1);
      const ls = spawnSync(process.execPath, [CLI_MAIN, 'ctl', 'ls'], { env: sb.env, encoding: 'utf8' }).stdout;
      assert.match(ls, /asker\s+waiting-approval\(\d+s\)/);
      assert.equal(spawnSync(process.execPath, [CLI_MAIN, 'approve', one.id], { env: sb.env }).status, 0);
      const two = await pendingText('two');
      assert.equal(spawnSync(process.execPath, [CLI_MAIN, 'deny', two.id, '--reason', 'no'], { env: sb.env }).status, 0);
      const out = await waitFor('all three answers', async () => {
        const text = (await sb.client.logs('asker')).toString();
        return /three=\d/.test(text) ? text : undefined;
      }, 30_000);
      assert.match(out, /one=0/);
      assert.match(out, /two=1/);
      assert.match(out, /three=2/);
      assert.equal((await agent(sb, 'asker')).approvals, null);
    } finally {
      await cleanup(sb, daemon);
    }
  });

  test(`under ${backend}, a pending request survives a daemon killed with SIGKILL, and the next daemon's answer reaches the waiting agent`, { skip, timeout: 120_000 }, async () => {
    const sb = makeSandbox();
    let daemon = await startDaemonProcess(sb);
    try {
      await spawnAgent(sb, 'patient', ['sh', '-c', `${ASK} "still there?"; echo "answer=$?"; sleep 60`], { backend });
      const req = await waitFor('the request', async () => (await sb.client.call<{ approvals: ApprovalView[] }>('GET', '/v1/approvals')).approvals[0], 30_000);
      daemon.proc.kill('SIGKILL');
      await daemon.exited;
      daemon = await startDaemonProcess(sb);
      const back = (await sb.client.call<{ approvals: ApprovalView[] }>('GET', '/v1/approvals')).approvals;
      assert.deepEqual(back.map((r) => [r.id, r.expires]), [[req.id, req.expires]]);
      await sb.client.call('POST', `/v1/approvals/${req.id}/approve`, {});
      const out = await waitFor('the answer', async () => {
        const text = (await sb.client.logs('patient')).toString();
        return /answer=\d/.test(text) ? text : undefined;
      }, 30_000);
      assert.match(out, /answer=0/);
    } finally {
      await cleanup(sb, daemon);
    }
  });
}

const landlock = backendByName('landlock').probe();
test('under landlock without user namespaces (no read-only carve-out) the agent runs without a channel, and the audit log says why', { skip: landlock.available ? false : `landlock: ${landlock.unavailableReason}`, timeout: 60_000 }, async () => {
  const sb = makeSandbox();
  sb.env.CELISTRA_FORCE_NO_USERNS = '1';
  sb.env.CELISTRA_LANDLOCK_ROOT_WITHOUT_USERNS = 'accept-metadata-gap';
  const daemon = await startDaemonProcess(sb);
  try {
    await spawnAgent(sb, 'plain', ['sh', '-c', 'echo "channel=${CELISTRA_APPROVALS:-none}"; sleep 30'], { backend: 'landlock' });
    const out = await waitFor('its output', async () => {
      const text = (await sb.client.logs('plain')).toString();
      return text.includes('channel=') ? text : undefined;
    });
    assert.match(out, /channel=none/);
    const events = (await sb.client.call<{ events: Array<{ agent: string; data: Record<string, unknown> }> }>('GET', '/v1/events?type=approval')).events;
    const unavailable = events.find((e) => e.agent === 'plain' && e.data.action === 'unavailable');
    assert.match(String(unavailable?.data.reason), /read-only/);
    assert.deepEqual(readdirSync(join(sb.paths.runtimeDir, 'approvals')), [], 'its spool was not left behind');
  } finally {
    await cleanup(sb, daemon);
  }
});
