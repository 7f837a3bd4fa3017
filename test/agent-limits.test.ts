import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_MAX_PROCS, formatBytes, parseLimits } from '../src/policy/limits.js';
import { makeCgroupRun, probeCgroups } from '../src/run/cgroup-limits.js';
import { LIMITS_EXIT, putLimitsInForce, wrapPlanWithLimits } from '../src/run/limits.js';
import type { LaunchPlan } from '../src/backends/backend.js';
import { scratchDir } from './support/scratch-dir.js';

test('limits: processes default to 4096; memory and CPU are parsed, bounded, and absent unless asked', () => {
  assert.deepEqual(parseLimits(), { maxProcs: DEFAULT_MAX_PROCS });
  assert.deepEqual(parseLimits({ maxProcs: '64', memory: '2G', cpu: '1.5' }), { maxProcs: 64, memoryBytes: 2 * 1024 ** 3, cpu: 1.5 });
  assert.equal(parseLimits({ memory: '512M' }).memoryBytes, 512 * 1024 ** 2);
  assert.equal(parseLimits({ memory: '1.5GiB' }).memoryBytes, 1.5 * 1024 ** 3);
  assert.equal(parseLimits({ maxProcs: 'unlimited' }).maxProcs, 'unlimited');
  for (const bad of [{ maxProcs: '3' }, { maxProcs: '-1' }, { maxProcs: '1e3' }, { maxProcs: 'lots' }, { memory: '1K' }, { memory: '2X' }, { cpu: '0' }, { cpu: 'fast' }, { cpu: '-1' }]) {
    assert.throws(() => parseLimits(bad), (e: { code?: string }) => e.code === 'E_USAGE', JSON.stringify(bad));
  }
  assert.equal(formatBytes(2 * 1024 ** 3), '2G');
  assert.equal(formatBytes(1536 * 1024 ** 2), '1.5G');
});

/** A fake cgroup v2 tree with systemd's user delegation. */
function fakeV2(controllers: string): { root: string; env: { root: string; selfCgroup: string; uid: number }; service: string } {
  const root = scratchDir('celistra-cgv2-');
  const service = join(root, 'user.slice/user-1000.slice/user@1000.service');
  const scope = join(service, 'app.slice/celistrad.scope');
  mkdirSync(scope, { recursive: true });
  writeFileSync(join(root, 'cgroup.controllers'), 'cpu memory pids');
  for (const dir of [join(root, 'user.slice'), join(root, 'user.slice/user-1000.slice'), service, join(service, 'app.slice'), scope]) {
    writeFileSync(join(dir, 'cgroup.procs'), '');
    writeFileSync(join(dir, 'cgroup.subtree_control'), controllers);
  }
  return { root, service, env: { root, selfCgroup: '0::/user.slice/user-1000.slice/user@1000.service/app.slice/celistrad.scope\n', uid: 1000 } };
}

test('cgroup v2: the base is the deepest writable proper ancestor of our own cgroup; its controllers decide what can be held', () => {
  const { root, env, service } = fakeV2('memory pids');
  const probe = probeCgroups(env);
  assert.equal(probe.bases.pids?.version, 2);
  assert.equal(probe.bases.pids?.dir, join(service, 'app.slice', 'celistra.1000'));
  assert.equal(probe.bases.pids?.own, join(root, 'user.slice/user-1000.slice/user@1000.service/app.slice/celistrad.scope'));
  assert.equal(probe.bases.cpu, undefined);
  assert.match(probe.why.cpu!, /cpu controller is not enabled for children/);

  const run = makeCgroupRun(probe, 'agent.1234', { pids: 64, memoryBytes: 64 * 1024 ** 2 });
  const dir = join(service, 'app.slice', 'celistra.1000', 'agent.1234');
  assert.deepEqual(run.dirs, [dir]);
  assert.equal(readFileSync(join(dir, 'pids.max'), 'utf8'), '64');
  assert.equal(readFileSync(join(dir, 'memory.max'), 'utf8'), String(64 * 1024 ** 2));
  // The base hands the controllers down to the run's cgroup.
  assert.equal(readFileSync(join(service, 'app.slice', 'celistra.1000', 'cgroup.subtree_control'), 'utf8'), '+pids +memory');
});

test('cgroup v1: each controller in its own hierarchy, under our own cgroup there', () => {
  const root = scratchDir('celistra-cgv1-');
  for (const c of ['pids', 'memory']) {
    mkdirSync(join(root, c, 'svc'), { recursive: true });
    writeFileSync(join(root, c, 'cgroup.procs'), '');
  }
  const probe = probeCgroups({ root, selfCgroup: '8:pids:/svc\n4:memory:/svc\n1:cpu,cpuacct:/\n', uid: 0 });
  assert.deepEqual(probe.bases.pids, { version: 1, dir: join(root, 'pids/svc/celistra.0'), own: join(root, 'pids/svc') });
  assert.equal(probe.bases.memory?.dir, join(root, 'memory/svc/celistra.0'));
  assert.match(probe.why.cpu!, /no cgroup v1 cpu hierarchy/);
  const run = makeCgroupRun(probe, 'a.1', { pids: 100, memoryBytes: 32 * 1024 ** 2 });
  assert.equal(run.dirs.length, 2);
  assert.equal(readFileSync(join(root, 'pids/svc/celistra.0/a.1/pids.max'), 'utf8'), '100');
  assert.equal(readFileSync(join(root, 'memory/svc/celistra.0/a.1/memory.limit_in_bytes'), 'utf8'), String(32 * 1024 ** 2));
});

test('without a pids cgroup: root is refused (RLIMIT_NPROC does not bind root) unless unlimited; a user gets RLIMIT_NPROC above its current tasks', () => {
  const none = { bases: {}, why: { pids: 'nothing writable', memory: 'nothing writable', cpu: 'nothing writable' } };
  assert.throws(() => putLimitsInForce({ maxProcs: 100 }, 'x', { probe: none, uid: 0 }), /running as root and nothing writable \(RLIMIT_NPROC does not bind root\)/);
  assert.deepEqual(putLimitsInForce({ maxProcs: 'unlimited' }, 'x', { probe: none, uid: 0 }).by, { procs: 'none' });
  const user = putLimitsInForce({ maxProcs: 100 }, 'x', { probe: none, uid: 1000, userTasks: () => 37 });
  assert.equal(user.by.procs, 'rlimit');
  assert.equal(user.rlimitNproc, 137);
  assert.throws(() => putLimitsInForce({ maxProcs: 100, memoryBytes: 1 << 30 }, 'x', { probe: none, uid: 1000, userTasks: () => 0 }), /cannot hold --memory 1G: nothing writable/);
  assert.throws(() => putLimitsInForce({ maxProcs: 100, cpu: 2 }, 'x', { probe: none, uid: 1000, userTasks: () => 0 }), /cannot hold --cpu 2/);
});

const plan = (file: string, args: string[]): LaunchPlan => ({ backend: 'none', file, args, env: { PATH: process.env.PATH ?? '/usr/bin:/bin' }, cwd: '/', notes: [] });

test('the wrapper lowers RLIMIT_NPROC (hard too) before the plan runs, and refuses to run it when it cannot join the cgroup', () => {
  const inner = plan('/bin/sh', ['-c', 'echo "$(ulimit -H -u 2>/dev/null || ulimit -H -p) $*"', 'sh', 'a b', 'c']);
  const unchanged = wrapPlanWithLimits(inner, { maxProcs: 'unlimited', by: { procs: 'none' } });
  assert.equal(unchanged, inner);
  const wrapped = wrapPlanWithLimits(inner, { maxProcs: 100, by: { procs: 'rlimit' }, rlimitNproc: 1234 });
  const r = spawnSync(wrapped.file, wrapped.args, { encoding: 'utf8' });
  assert.equal(r.stdout.trim(), '1234 a b c', r.stderr);

  const missing = wrapPlanWithLimits(plan('/bin/echo', ['ran']), { maxProcs: 100, by: { procs: 'cgroup-v2' }, cgroup: { version: 2, dirs: ['/nonexistent/celistra'], origins: ['/'], controllers: ['pids'] } });
  const refused = spawnSync(missing.file, missing.args, { encoding: 'utf8' });
  assert.equal(refused.status, LIMITS_EXIT);
  assert.equal(refused.stdout, '', 'the command did not run');
  assert.match(refused.stderr, /cannot move the agent into its cgroup/);
});

test('the native addon lowers RLIMIT_NPROC of its own process, soft and hard, and what it starts inherits it', { skip: process.platform !== 'linux' ? 'Linux only' : false }, async () => {
  const { loadLowerProcessLimit } = await import('../src/run/process-limit.js');
  if (!loadLowerProcessLimit()) return assert.fail('the native addon is built but has no lowerProcessLimit');
  const script = `import(${JSON.stringify(new URL('../src/run/process-limit.js', import.meta.url).href)}).then((m) => {
    const set = m.loadLowerProcessLimit()(777);
    const r = require('child_process').spawnSync('sh', ['-c', 'grep "Max processes" /proc/self/limits'], { encoding: 'utf8' });
    console.log(set, r.stdout.trim().split(/\\s+/).slice(2, 4).join(' '));
  });`;
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
  assert.equal(r.stdout.trim(), '777 777 777', r.stderr);
});
