/**
 * Issue 19 (supervisor): between an agent's runs (`ctl restart` collected the old run's
 * exit and its next holder is starting) its state is still `running` but it has no
 * holder link, and `ctl kill` answered "agent X is not running (running)". A kill then
 * must stop it: no next run, state `stopped`, no process left.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { agent, cleanup, isAlive, makeSandbox, spawnAgent, startDaemonProcess, waitFor, sleep } from './daemon-harness.js';

test('ctl kill between the runs of a restart stops the agent instead of answering "not running (running)"', async () => {
  const sb = makeSandbox();
  const daemon = await startDaemonProcess(sb);
  try {
    const first = await spawnAgent(sb, 'a', ['sleep', '300'], { backend: 'none' });
    await sb.client.call('POST', '/v1/agents/a/restart', {});
    // The window: the old run's exit is collected (no pid) and the next holder is starting.
    await waitFor('the gap between the runs', async () => {
      const a = await agent(sb, 'a');
      return a.state === 'running' && a.pid === null ? true : undefined;
    }, 10_000);
    const killed = await sb.client.call<{ agent: { state: string } }>('POST', '/v1/agents/a/kill', { signal: 'TERM' });
    assert.ok(['stopped', 'running'].includes(killed.agent.state));
    const settled = await waitFor('the agent to stop', async () => {
      const a = await agent(sb, 'a');
      return a.state === 'stopped' ? a : undefined;
    });
    assert.equal(settled.pid, null);
    // It stays stopped: the restart that was under way does not bring it back.
    await sleep(1500);
    const later = await agent(sb, 'a');
    assert.equal(later.state, 'stopped');
    assert.ok(!isAlive(first.pid!), 'the first run is gone');
    assert.ok(!isAlive(first.holderPid!), 'its holder is gone');
    const holders = (await import('node:child_process')).spawnSync('ps', ['-eo', 'args='], { encoding: 'utf8' }).stdout.split('\n').filter((l) => l.includes(sb.root) && l.includes('holder'));
    assert.deepEqual(holders, [], 'no holder of the next run is left');
  } finally {
    await cleanup(sb, daemon);
  }
});
