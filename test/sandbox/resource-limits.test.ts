/**
 * Issue 19, class 5: a fork bomb under an agent is bounded by its process limit, under
 * the daemon and under `celistra run`, for every Linux backend, as root (pids cgroup)
 * and as an unprivileged user (RLIMIT_NPROC, where no cgroup is writable); the agent
 * can neither raise its limit nor leave its cgroup; the host stays responsive; nothing
 * of the bomb is left afterwards. Memory: an agent past its --memory limit is killed,
 * and `ctl ls` and `history` say it ran out of memory.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { backendByName } from '../../src/run/backend-selection.js';
import type { BackendName } from '../../src/backends/backend.js';
import { probeCgroups } from '../../src/run/cgroup-limits.js';
import { agent, cleanup, makeSandbox, spawnAgent, startDaemonProcess, waitFor, sleep } from '../daemon-harness.js';
import { CELISTRA_BIN } from '../support/celistra-cli.js';

const LIMIT = 40;
const ATTEMPTS = 400;
const hasPython = spawnSync('python3', ['-c', '0']).status === 0;
const probe = probeCgroups();
const expectedMechanism = probe.bases.pids ? `cgroup-v${probe.bases.pids.version}` : 'rlimit';

/**
 * The bomb: first tries to escape (write its pid into the root cgroup, raise pids.max,
 * raise RLIMIT_NPROC), then forks sleeping children until the kernel refuses, says how
 * many it made, and stays a few seconds so the host can count them.
 */
const BOMB = `
import os, sys, time, resource
escape = []
for line in open('/proc/self/cgroup').read().splitlines():
    _, ctrls, path = line.split(':', 2)
    if ctrls in ('pids', ''):
        base = '/sys/fs/cgroup/pids' if ctrls == 'pids' else '/sys/fs/cgroup'
        for f, v in ((base + '/cgroup.procs', str(os.getpid())), (base + path + '/pids.max', 'max')):
            try:
                with open(f, 'w') as fh: fh.write(v)
                escape.append('wrote ' + f)
            except OSError:
                pass
soft, hard = resource.getrlimit(resource.RLIMIT_NPROC)
if hard != resource.RLIM_INFINITY:
    try:
        resource.setrlimit(resource.RLIMIT_NPROC, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
        escape.append('raised rlimit')
    except (ValueError, OSError):
        pass
print('escape=' + (';'.join(escape) or 'refused'), flush=True)
n = 0
for i in range(${ATTEMPTS}):
    try:
        pid = os.fork()
    except OSError:
        break
    if pid == 0:
        time.sleep(60)
        os._exit(0)
    n += 1
print('forked=%d' % n, flush=True)
time.sleep(3)
print('bomb-done', flush=True)
`;

/** Processes on the host whose command line carries the marker (but not `celistra run` itself, which is outside the limit). */
function marked(marker: string): number {
  let n = 0;
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const cmdline = readFileSync(`/proc/${p}/cmdline`, 'utf8');
      if (cmdline.includes(marker) && !cmdline.includes(CELISTRA_BIN)) n++;
    } catch {
      // gone
    }
  }
  return n;
}

/** Sample the marked processes until `done` resolves; returns the peak. */
/** The RLIMIT_NPROC (soft) of the bomb's python process, once one is seen. */
function bombRlimit(marker: string): number | undefined {
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const cmdline = readFileSync(`/proc/${p}/cmdline`, 'utf8');
      if (!cmdline.startsWith('python3') || !cmdline.includes(marker)) continue;
      const line = readFileSync(`/proc/${p}/limits`, 'utf8').split('\n').find((l) => l.startsWith('Max processes'));
      const n = Number(line?.split(/\s{2,}/)[1]);
      if (Number.isInteger(n)) return n;
    } catch {
      // gone
    }
  }
  return undefined;
}

interface Peak {
  marked: number;
  /** The bomb's RLIMIT_NPROC (rlimit mode). */
  rlimit?: number;
}

/** Sample the marked processes until `done` resolves. */
async function peakWhile(marker: string, done: Promise<unknown>): Promise<Peak> {
  let finished = false;
  void done.finally(() => (finished = true));
  const peak: Peak = { marked: 0 };
  while (!finished) {
    peak.marked = Math.max(peak.marked, marked(marker));
    if (expectedMechanism === 'rlimit') peak.rlimit ??= bombRlimit(marker);
    await sleep(20);
  }
  return peak;
}

function hostResponsive(): void {
  const t = Date.now();
  const r = spawnSync('sh', ['-c', 'echo alive'], { encoding: 'utf8', timeout: 10_000 });
  assert.equal(r.stdout.trim(), 'alive', 'the host can still start processes during the bomb');
  assert.ok(Date.now() - t < 10_000);
}

/**
 * A cgroup bounds the agent's tasks exactly, at the limit. RLIMIT_NPROC bounds all of the
 * user's tasks: it is set to those at the start plus the limit (test/agent-limits.test.ts),
 * so the agent's own count depends on what the user's other processes (the test runner's
 * other files) do meanwhile; what holds whatever they do is the rlimit itself.
 */
function checkBomb(out: string, peak: Peak): void {
  assert.match(out, /escape=refused/, `the agent escaped its limit: ${out}`);
  const forked = Number(/forked=(\d+)/.exec(out)?.[1]);
  assert.ok(Number.isInteger(forked), out);
  let bound = LIMIT;
  if (expectedMechanism === 'rlimit') {
    assert.ok(peak.rlimit !== undefined, 'the bomb was seen with its RLIMIT_NPROC');
    assert.ok(peak.rlimit < ATTEMPTS, `an RLIMIT_NPROC of ${peak.rlimit} would not stop the bomb`);
    bound = peak.rlimit;
  }
  assert.ok(forked < bound, `the bomb forked ${forked} children past a limit of ${bound}`);
  assert.ok(forked >= 10, `the bomb forked only ${forked}: something else stopped it (${out})`);
  assert.ok(peak.marked <= bound, `the host saw ${peak.marked} of the bomb's processes at once, over the limit of ${bound}`);
  assert.ok(peak.marked >= 10, `the host never saw the bomb's processes (peak ${peak.marked})`);
}

for (const backend of ['landlock', 'bwrap'] as BackendName[]) {
  const caps = backendByName(backend).probe();
  const skip = !caps.available ? `${backend}: ${caps.unavailableReason}` : !hasPython ? 'python3 is not installed (the bomb is a python script)' : false;

  test(`celistra run under ${backend}: a fork bomb stops at --max-procs (${expectedMechanism}), nothing of it is left, and it cannot lift its limit`, { skip }, async () => {
    const sb = makeSandbox();
    const marker = `bomb-${randomUUID()}`;
    try {
      const child = spawn(process.execPath, [CELISTRA_BIN, 'run', '--workspace', sb.workspace, '--backend', backend, '--max-procs', String(LIMIT), '--', 'python3', '-c', BOMB, marker], { env: sb.env as Record<string, string>, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('forked=')) hostResponsive();
      });
      child.stderr.on('data', (d: Buffer) => (out += d.toString()));
      const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
      const peak = await peakWhile(marker, exited);
      assert.equal(await exited, 0, out);
      checkBomb(out, peak);
      await waitFor('the bomb to be gone', () => marked(marker) === 0 || undefined, 10_000);
      if (probe.bases.pids) {
        // Removed at the end, or, when the run handed itself over to the exec helper (no
        // Node process left at its end), by the next run.
        const dir = join(probe.bases.pids.dir, `run.${child.pid}`);
        if (existsSync(dir)) spawnSync(process.execPath, [CELISTRA_BIN, 'run', '--workspace', sb.workspace, '--backend', backend, '--', 'true'], { env: sb.env as Record<string, string> });
        assert.ok(!existsSync(dir), 'the run cgroup is removed');
      }
    } finally {
      await cleanup(sb);
    }
  });

  test(`the daemon under ${backend}: an agent's fork bomb stops at its --max-procs (${expectedMechanism}), ctl ls shows the limit, and rm leaves nothing`, { skip }, async () => {
    const sb = makeSandbox();
    const marker = `bomb-${randomUUID()}`;
    const daemon = await startDaemonProcess(sb);
    try {
      const spawned = await spawnAgent(sb, 'bomb', ['python3', '-c', BOMB, marker], { backend, maxProcs: LIMIT });
      assert.equal(spawned.limits.maxProcs, LIMIT);
      assert.equal(spawned.limits.by?.procs, expectedMechanism);
      const done = waitFor('the bomb to finish', async () => (await sb.client.logs('bomb')).includes('bomb-done') || undefined, 60_000);
      const peak = await peakWhile(marker, done);
      await done;
      hostResponsive();
      const out = (await sb.client.logs('bomb')).toString();
      checkBomb(out, peak);
      const ended = await waitFor('the agent to exit', async () => {
        const a = await agent(sb, 'bomb');
        return a.state !== 'running' ? a : undefined;
      });
      if (probe.bases.pids) assert.ok((ended.lastExit?.forksRefused ?? 0) > 0, 'the cgroup counted the refused forks');
      await waitFor('the bomb to be gone', () => marked(marker) === 0 || undefined, 10_000);
      if (probe.bases.pids) assert.deepEqual(readdirSync(probe.bases.pids.dir).filter((n) => n.startsWith('bomb.')), [], 'the run cgroup is removed');
      await sb.client.call('DELETE', '/v1/agents/bomb');
      assert.equal(marked(marker), 0);
    } finally {
      await cleanup(sb, daemon);
    }
  });
}

test('an agent past its --memory limit is killed, and ctl ls and history say it ran out of memory', { skip: !probe.bases.memory ? `no writable memory cgroup: ${probe.why.memory}` : false }, async () => {
  const sb = makeSandbox();
  const daemon = await startDaemonProcess(sb);
  try {
    await spawnAgent(sb, 'hog', ['sh', '-c', 'head -c 400000000 /dev/zero | tail -n 1 >/dev/null'], { memory: '64M' });
    const ended = await waitFor('the hog to end', async () => {
      const a = await agent(sb, 'hog');
      return a.state !== 'running' ? a : undefined;
    }, 60_000);
    assert.equal(ended.state, 'exited');
    assert.equal(ended.lastExit?.status, 137, 'killed by SIGKILL');
    assert.ok((ended.lastExit?.oomKills ?? 0) >= 1, JSON.stringify(ended.lastExit));
    assert.equal(ended.limits.memoryBytes, 64 * 1024 * 1024);
    const ls = spawnSync(process.execPath, [CELISTRA_BIN, 'ctl', 'ls'], { env: sb.env as Record<string, string>, encoding: 'utf8' });
    assert.match(ls.stdout, /hog\s+exited\(137 oom\)/, ls.stdout);
    const history = spawnSync(process.execPath, [CELISTRA_BIN, 'history', 'hog', '--json'], { env: sb.env as Record<string, string>, encoding: 'utf8' });
    const exit = (JSON.parse(history.stdout) as { type: string; data: Record<string, unknown> }[]).find((e) => e.type === 'exit');
    assert.ok(exit, history.stdout);
    assert.ok(Number(exit.data.oomKills) >= 1);
    assert.match(String(exit.data.why), /out of memory/);
  } finally {
    await cleanup(sb, daemon);
  }
});
