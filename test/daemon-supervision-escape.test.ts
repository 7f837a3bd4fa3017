import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { agent, cleanup, CLI_MAIN, makeSandbox, spawnAgent, startDaemonProcess, waitFor, type Sandbox } from './daemon-harness.js';

/**
 * An agent that prints from its first byte: when the daemon connects, its holder already
 * has output waiting, which used to go out before the hello and made the daemon drop the
 * holder it had just started (issue 19, class 1).
 */
const FLOOD = ['sh', '-c', 'while :; do echo flood-flood-flood-flood; done'];
const FLOOD_THEN_CRASH = ['sh', '-c', 'i=0; while [ $i -lt 2000 ]; do echo crash-flood; i=$((i+1)); done; exit 3'];

/** Set CELISTRA_ESCAPE_ROUNDS=50 for the full run (bench/supervision-escape.sh does). */
const ROUNDS = Number(process.env.CELISTRA_ESCAPE_ROUNDS ?? 4);

/** Processes of this sandbox: holders name it on their command line, agents run in its workspace. */
function sandboxProcesses(sb: Sandbox): Array<{ pid: number; what: string }> {
  const out: Array<{ pid: number; what: string }> = [];
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    try {
      const cmd = readFileSafe(`/proc/${pid}/cmdline`);
      let cwd = '';
      try {
        cwd = readlinkSync(`/proc/${pid}/cwd`);
      } catch {
        // exited, or not ours to read
      }
      if (cmd.includes(sb.root) || cwd.startsWith(sb.workspace)) out.push({ pid, what: cmd.replace(/\0/g, ' ').trim() });
    } catch {
      // gone
    }
  }
  return out;
}

function readFileSafe(path: string): string {
  try {
    return readFileSync(path, 'latin1');
  } catch {
    return '';
  }
}

/**
 * Every holder must belong to an agent the daemon lists as running. The holder of a run
 * that just ended takes a moment to go (it exits once the daemon has collected its
 * output), so strays are given time to disappear: 15 s, because on a loaded 2-core
 * machine a holder's exit took longer than 3 s. A real orphan never goes, so a longer
 * wait only costs time in the failing case.
 */
async function assertNoOrphans(sb: Sandbox, daemonPid: number, when: string): Promise<void> {
  const strays = async () => {
    const owned = new Set<number>();
    for (const a of await sb.client.listAgents()) if (a.state === 'running') for (const p of [a.pid, a.holderPid]) if (p) owned.add(p);
    return sandboxProcesses(sb).filter((p) => p.pid !== daemonPid && p.what.includes('holder/main.js') && !owned.has(p.pid));
  };
  await waitFor(`${when}: no stray holder`, async () => ((await strays()).length === 0 ? true : undefined), 15_000).catch(() => undefined);
  assert.deepEqual(await strays(), [], `${when}: holders no listed agent owns`);
}

test('agents that flood from their first byte stay supervised across spawn, restart, auto-restart and daemon restart', async () => {
  const sb = makeSandbox();
  let daemon = await startDaemonProcess(sb, ['--restart-delay-ms', '50']);
  try {
    for (let round = 0; round < ROUNDS; round++) {
      const name = `flood-${round}`;
      const spawned = await spawnAgent(sb, name, FLOOD);
      assert.equal(spawned.state, 'running', `round ${round}: spawn answers running`);
      await assertNoOrphans(sb, daemon.pid, `round ${round} after spawn`);

      await sb.client.call('POST', `/v1/agents/${name}/restart`);
      await waitFor('restarted', async () => {
        const s = await agent(sb, name);
        return s.state === 'running' && s.pid !== spawned.pid ? s : undefined;
      });
      await assertNoOrphans(sb, daemon.pid, `round ${round} after restart`);

      daemon.proc.kill('SIGKILL');
      await daemon.exited;
      daemon = await startDaemonProcess(sb, ['--restart-delay-ms', '50']);
      const back = await agent(sb, name);
      assert.equal(back.state, 'running', `round ${round}: the agent is still running after the daemon restart`);
      await assertNoOrphans(sb, daemon.pid, `round ${round} after daemon restart`);

      // It exited exactly once so far: when it was restarted.
      const history = await sb.client.call<{ events: Array<{ data: { why?: string } }> }>('GET', `/v1/events?type=exit&agent=${name}&limit=1000`);
      assert.deepEqual(
        history.events.map((e) => e.data.why),
        ['exited'],
        `${name}: the audit log records only the exit that happened`,
      );

      // One flooding agent at a time: a fleet of busy loops would starve the machine.
      await sb.client.call('POST', `/v1/agents/${name}/kill`, { signal: 'TERM' });
      await waitFor(`${name} stopped`, async () => ((await agent(sb, name)).state === 'stopped' ? true : undefined));
      await sb.client.call('DELETE', `/v1/agents/${name}`);
      await assertNoOrphans(sb, daemon.pid, `round ${round} after rm`);
      assert.deepEqual(
        sandboxProcesses(sb).filter((p) => p.what.includes(`/${name}.`) || p.what.includes(`/tmp/${name}-`)),
        [],
        `round ${round}: ctl rm leaves no process of ${name} behind`,
      );
    }

    await spawnAgent(sb, 'crasher', FLOOD_THEN_CRASH, { autoRestart: true });
    await waitFor('auto-restarted twice', async () => ((await agent(sb, 'crasher')).restarts >= 2 ? true : undefined));
    // Between its runs a crash-looping agent briefly has a holder on its way out or in:
    // stop it, then nothing of it may be left.
    await waitFor('crasher stopped', async () => {
      const s = await agent(sb, 'crasher');
      if (s.state === 'running' || s.state === 'restarting') await sb.client.call('POST', '/v1/agents/crasher/kill', { signal: 'TERM' }).catch(() => undefined);
      return s.state === 'stopped' || s.state === 'exited' ? true : undefined;
    });
    await assertNoOrphans(sb, daemon.pid, 'after auto-restarts');

    for (const a of await sb.client.listAgents()) {
      if (a.state === 'running' || a.state === 'restarting') await sb.client.call('POST', `/v1/agents/${a.name}/kill`, { signal: 'TERM' });
    }
    for (const a of await sb.client.listAgents()) {
      await waitFor(`${a.name} stopped`, async () => ((await agent(sb, a.name)).state !== 'running' ? true : undefined));
      await sb.client.call('DELETE', `/v1/agents/${a.name}`);
    }
    await waitFor('no process left but the daemon', () => (sandboxProcesses(sb).every((p) => p.pid === daemon.pid) ? true : undefined), 10_000).catch(() => undefined);
    assert.deepEqual(
      sandboxProcesses(sb).filter((p) => p.pid !== daemon.pid),
      [],
      'ctl rm leaves no process behind',
    );
  } finally {
    await cleanup(sb, daemon);
  }
});

test('daemon stop --agents ends the daemon and every agent it supervises', async () => {
  const sb = makeSandbox();
  const daemon = await startDaemonProcess(sb);
  try {
    await spawnAgent(sb, 'one', FLOOD);
    await spawnAgent(sb, 'two', ['sh', '-c', 'trap "" HUP TERM; exec sleep 300']);
    const r = spawnSync(process.execPath, [CLI_MAIN, 'daemon', 'stop', '--agents'], { env: sb.env, encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /stopped/);
    await daemon.exited;
    await waitFor('every agent process gone', () => (sandboxProcesses(sb).length === 0 ? true : undefined), 10_000).catch(() => undefined);
    assert.deepEqual(sandboxProcesses(sb), []);
  } finally {
    await cleanup(sb, daemon);
  }
});
