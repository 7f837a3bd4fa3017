import { test } from 'node:test';
import assert from 'node:assert/strict';
import { probeSeatbelt } from '../src/backends/seatbelt/probe.js';
import { seatbeltBackend, seatbeltPlan } from '../src/backends/seatbelt/index.js';
import { GUARANTEE_NAMES } from '../src/backends/backend.js';
import { CelistraError } from '../src/policy/errors.js';
import type { Policy } from '../src/policy/policy.js';

const policy: Policy = { version: 1, workspace: '/Users/dev/ws', writableRoots: [], readOnlyPaths: [], denyRead: [], tmpDir: '/Users/dev/tmp/run-1', network: 'on', unixSockets: 'deny', env: { TMPDIR: '/Users/dev/tmp/run-1' } };

test('off macOS, seatbelt is unavailable and says why, with every guarantee a gap', () => {
  const caps = probeSeatbelt('linux');
  assert.equal(caps.available, false);
  assert.match(caps.unavailableReason!, /only on macOS; this is linux/);
  for (const g of GUARANTEE_NAMES) assert.equal(caps.guarantees[g].status, 'gap');
});

test('on macOS without sandbox-exec, seatbelt is unavailable naming the missing binary', () => {
  const caps = probeSeatbelt('darwin', '/nonexistent/sandbox-exec');
  assert.equal(caps.available, false);
  assert.match(caps.unavailableReason!, /\/nonexistent\/sandbox-exec not found/);
});

test('the backend refuses to plan where it cannot run', { skip: process.platform === 'darwin' ? 'runs on macOS' : false }, () => {
  assert.throws(() => seatbeltBackend.plan(policy, ['true'], {}), (e: unknown) => e instanceof CelistraError && e.code === 'E_NO_BACKEND');
});

test('a plan runs /usr/bin/sandbox-exec in the workspace with the policy environment added', () => {
  const plan = seatbeltPlan(policy, ['make', 'test'], { PATH: '/usr/bin', TMPDIR: '/shared' });
  assert.equal(plan.file, '/usr/bin/sandbox-exec');
  assert.equal(plan.cwd, '/Users/dev/ws');
  assert.equal(plan.env.TMPDIR, '/Users/dev/tmp/run-1');
  assert.equal(plan.env.PATH, '/usr/bin');
  const dash = plan.args.indexOf('--');
  const inner = plan.args.slice(dash + 1);
  // Through /bin/bash, which closes inherited descriptors and then execs the command ("$@").
  assert.deepEqual(inner.slice(0, 4), ['/bin/bash', '--norc', '--posix', '-c']);
  assert.match(inner[4]!, /\/dev\/fd\/\*.*exec "\$@"$/);
  assert.deepEqual(inner.slice(6), ['make', 'test']);
});
