import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { backendByName } from '../../src/core/backend-selection.js';
import type { BackendName } from '../../src/core/backend.js';
import type { ApprovalView } from '../../src/approvals/request.js';
import { agent, cleanup, CLI_MAIN, makeSandbox, spawnAgent, startDaemonProcess, waitFor } from '../daemon-harness.js';

const ASK = '"$CELISTRA_NODE" "$CELISTRA_CLI" ask';

for (const backend of ['landlock', 'bwrap'] as BackendName[]) {
  const caps = backendByName(backend).probe();
  const skip = caps.available ? false : `${backend}: ${caps.unavailableReason}`;

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
