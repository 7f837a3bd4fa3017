import { test } from 'node:test';
import assert from 'node:assert/strict';
import { agent, cleanup, makeSandbox, sleep, spawnAgent, startDaemonProcess, waitFor } from './daemon-harness.js';

test('a crash loop is restarted with growing delays, then crashed-out after more than 5 crashes in 60 s', async () => {
  const sb = makeSandbox();
  // First delay 100 ms: the backoff is 100, 200, 400, 800, 1600 ms before crash six.
  const daemon = await startDaemonProcess(sb, ['--restart-delay-ms', '100']);
  try {
    const started = Date.now();
    await spawnAgent(sb, 'crasher', ['sh', '-c', 'echo boom; exit 3'], { autoRestart: true });
    const out = await waitFor('crashed-out', async () => {
      const a = await agent(sb, 'crasher');
      return a.state === 'crashed-out' ? a : undefined;
      // Six holder starts on a loaded 2-core CI machine can exceed 20 s; stay inside the 60 s window.
    }, 55_000);
    const elapsed = Date.now() - started;
    assert.equal(out.restarts, 5, 'five restarts, then it gives up on the sixth crash');
    assert.equal(out.lastExit?.status, 3);
    assert.ok(elapsed >= 100 + 200 + 400 + 800 + 1600, `the delays double (took ${elapsed} ms)`);
    await sleep(500);
    const still = await agent(sb, 'crasher');
    assert.equal(still.state, 'crashed-out', 'no more restarts once crashed-out');
    assert.equal(still.restarts, 5);

    const again = await sb.client.call<{ agent: { state: string } }>('POST', '/v1/agents/crasher/restart', {});
    assert.ok(['running', 'restarting', 'exited'].includes(again.agent.state), 'ctl restart starts it again');
    const next = await waitFor('restarted', async () => {
      const a = await agent(sb, 'crasher');
      return a.restarts >= 6 ? a : undefined;
    });
    assert.notEqual(next.state, 'crashed-out', 'the crash count starts over after ctl restart');
  } finally {
    await cleanup(sb, daemon);
  }
});

test('a kill by the user is not a crash: the agent stays stopped', async () => {
  const sb = makeSandbox();
  const daemon = await startDaemonProcess(sb, ['--restart-delay-ms', '50']);
  try {
    const a = await spawnAgent(sb, 'sleeper', ['sleep', '300'], { autoRestart: true });
    await sb.client.call('POST', '/v1/agents/sleeper/kill', { signal: 'KILL' });
    const stopped = await waitFor('stopped', async () => {
      const s = await agent(sb, 'sleeper');
      return s.state === 'stopped' ? s : undefined;
    });
    await sleep(500);
    const later = await agent(sb, 'sleeper');
    assert.equal(later.state, 'stopped');
    assert.equal(later.restarts, 0);
    assert.equal(stopped.lastExit?.signal, 'SIGKILL');
    assert.notEqual(a.pid, null);
  } finally {
    await cleanup(sb, daemon);
  }
});

test('a crash without --auto-restart leaves the agent exited with its status', async () => {
  const sb = makeSandbox();
  const daemon = await startDaemonProcess(sb, ['--restart-delay-ms', '50']);
  try {
    await spawnAgent(sb, 'once', ['sh', '-c', 'exit 7']);
    const a = await waitFor('exited', async () => {
      const s = await agent(sb, 'once');
      return s.state === 'exited' ? s : undefined;
    });
    assert.equal(a.lastExit?.status, 7);
    await sleep(300);
    assert.equal((await agent(sb, 'once')).restarts, 0);
  } finally {
    await cleanup(sb, daemon);
  }
});
