import { test } from 'node:test';
import { mkdirSync, realpathSync, writeFileSync } from 'node:fs';
import assert from 'node:assert/strict';
import type { Policy } from '../src/policy/policy.js';
import { CelistraError } from '../src/policy/errors.js';
import { planLandlock } from '../src/backends/landlock/plan.js';
import { helperArgs } from '../src/backends/landlock/helper-args.js';
import type { LandlockFacts } from '../src/backends/landlock/probe.js';
import { fenceFilterHex } from '../src/backends/seccomp/fence-filter.js';
import { scratchDir } from './support/scratch-dir.js';

const HELPER = '/opt/celistra/native/build/Release/celistra-exec';

/** A machine like this one: ABI 7, user namespaces working. */
function machine(over: Partial<LandlockFacts> = {}): LandlockFacts {
  return { built: true, helperPath: HELPER, kernelAbi: 7, abi: 7, userNamespaces: true, seccomp: true, ...over };
}

function policy(over: Partial<Policy> = {}): Policy {
  return {
    version: 1,
    workspace: '/work/agents/wt-a',
    writableRoots: ['/home/u/.cache/tool'],
    readOnlyPaths: [],
    denyRead: ['/home/u/.ssh', '/run/user/1000/celistra'],
    tmpDir: '/run/user/1000/celistra/tmp/run-abc',
    network: 'on',
    unixSockets: 'deny',
    env: { TMPDIR: '/run/user/1000/celistra/tmp/run-abc' },
    ...over,
  };
}

function refusal(fn: () => unknown): CelistraError {
  try {
    fn();
  } catch (e) {
    if (e instanceof CelistraError) return e;
    throw e;
  }
  assert.fail('expected a refusal');
}

test('the plan runs the exec helper with the encoded policy, then -- and the command untouched', () => {
  const plan = planLandlock(policy(), ['git', '--version', '--', '-x'], { PATH: '/usr/bin' }, machine());
  assert.equal(plan.backend, 'landlock');
  assert.equal(plan.file, HELPER);
  assert.deepEqual(plan.args, [
    '--namespaces', '--net', 'on', '--new-session',
    '--write', '/work/agents/wt-a', '--write', '/home/u/.cache/tool',
    '--tmp', '/run/user/1000/celistra/tmp/run-abc',
    '--deny-read', '/home/u/.ssh', '--deny-read', '/run/user/1000/celistra',
    '--seccomp-filter', fenceFilterHex({ unixSockets: 'refuse', network: 'on' })!,
    '--', 'git', '--version', '--', '-x',
  ]);
  assert.equal(plan.cwd, '/work/agents/wt-a');
  assert.equal(plan.degraded, undefined);
});

test('a policy that allows unix sockets gets the filter without its unix-socket rule, and the plan says pathname-unix is not held', () => {
  const plan = planLandlock(policy({ unixSockets: 'allow' }), ['true'], {}, machine());
  // The rest of the filter (keyrings, the sandbox's init, vsock) holds whatever the flag says.
  assert.equal(plan.args[plan.args.indexOf('--seccomp-filter') + 1], fenceFilterHex({ unixSockets: 'allow', network: 'on' }));
  assert.match(plan.degraded?.['pathname-unix'] ?? '', /--allow-unix-sockets/);
  // ABI 7 still scopes abstract sockets by Landlock itself.
  assert.equal(plan.degraded?.['abstract-unix'], undefined);
  const old = planLandlock(policy({ unixSockets: 'allow' }), ['true'], {}, machine({ abi: 5 }));
  assert.match(old.degraded?.['abstract-unix'] ?? '', /--allow-unix-sockets/);
});

test('a policy persisted before unixSockets existed is fenced as deny', () => {
  const { unixSockets: _dropped, ...legacy } = policy();
  const plan = planLandlock(legacy as Policy, ['true'], {}, machine());
  assert.ok(plan.args.includes('--seccomp-filter'));
});

test('without kernel seccomp filtering the plan carries no filter (the gap is declared by the machine)', () => {
  const plan = planLandlock(policy(), ['true'], {}, machine({ seccomp: false }));
  assert.ok(!plan.args.includes('--seccomp-filter'));
});

test('the child environment is the base environment overlaid with the policy environment', () => {
  const plan = planLandlock(policy(), ['true'], { PATH: '/usr/bin', TMPDIR: '/tmp', HOME: '/home/u' }, machine());
  assert.deepEqual(plan.env, { PATH: '/usr/bin', TMPDIR: '/run/user/1000/celistra/tmp/run-abc', HOME: '/home/u' });
});

test('read-only carve-outs are passed to the helper', () => {
  const args = helperArgs(policy({ readOnlyPaths: ['/work/agents/wt-a/.git'] }), ['true'], { namespaces: true });
  const i = args.indexOf('--read-only');
  assert.equal(args[i + 1], '/work/agents/wt-a/.git');
  assert.ok(i < args.indexOf('--'));
});

test('read-only carve-outs without user namespaces are refused, naming the path and the fix', () => {
  const e = refusal(() => planLandlock(policy({ readOnlyPaths: ['/work/agents/wt-a/.git'] }), ['true'], {}, machine({ userNamespaces: false, userNamespacesProblem: 'disabled' })));
  assert.equal(e.code, 'E_NO_BACKEND');
  assert.match(e.message, /\/work\/agents\/wt-a\/\.git/);
  assert.match(e.message, /user namespaces/);
  // The backend's own fix; another backend is named by the selection, where usable (test/backend-alternative.test.ts).
  assert.match(e.hint ?? '', /enable unprivileged user namespaces/);
  assert.doesNotMatch(e.hint ?? '', /--backend bwrap/);
});

test('without user namespaces the plan asks for Landlock only', () => {
  const plan = planLandlock(policy(), ['true'], {}, machine({ userNamespaces: false }), 1000);
  assert.ok(!plan.args.includes('--namespaces'));
  assert.ok(plan.notes.some((n) => /chmod\/chown\/utime\/xattrs outside not restricted/.test(n)));
  assert.ok(plan.notes.some((n) => /subreaper: processes the agent leaves behind are killed/.test(n)));
});

test('network off without user namespaces needs ABI 4: refused at ABI 3, TCP rules at ABI 4', () => {
  const off = policy({ network: 'off' });
  const e = refusal(() => planLandlock(off, ['true'], {}, machine({ userNamespaces: false, abi: 3 }), 1000));
  assert.equal(e.code, 'E_NO_BACKEND');
  assert.match(e.message, /ABI 4/);
  const plan = planLandlock(off, ['true'], {}, machine({ userNamespaces: false, abi: 4 }), 1000);
  assert.deepEqual(plan.args.slice(0, 3), ['--net', 'off', '--new-session']);
  assert.ok(plan.notes.some((n) => /UDP stays open/.test(n)));
});

test('network off with user namespaces uses a network namespace at any ABI', () => {
  const plan = planLandlock(policy({ network: 'off' }), ['true'], {}, machine({ abi: 1 }));
  assert.deepEqual(plan.args.slice(0, 4), ['--namespaces', '--net', 'off', '--new-session']);
  assert.ok(plan.notes.some((n) => /network namespace/.test(n)));
  assert.ok(plan.notes.some((n) => /pid namespace: processes the agent leaves behind end with it/.test(n)));
});

test('ABI 2 without user namespaces is refused: truncate outside could not be stopped', () => {
  const e = refusal(() => planLandlock(policy(), ['true'], {}, machine({ userNamespaces: false, abi: 2 })));
  assert.equal(e.code, 'E_NO_BACKEND');
  assert.match(e.message, /truncate/);
});

test('a kernel without Landlock or a missing helper build is refused with a fix', () => {
  const noLandlock = refusal(() => planLandlock(policy(), ['true'], {}, machine({ kernelAbi: 0, abi: 0 })));
  assert.equal(noLandlock.code, 'E_NO_BACKEND');
  assert.match(noLandlock.hint ?? '', /boot a kernel with Landlock enabled/);
  const unbuilt = refusal(() => planLandlock(policy(), ['true'], {}, machine({ built: false, buildProblem: 'the exec helper is not built', abi: 0 })));
  assert.match(unbuilt.message, /exec helper is not built/);
  assert.match(unbuilt.hint ?? '', /npm rebuild/);
});

test('a forced (test) ABI is passed on as --abi-cap so the helper uses no more than planned', () => {
  const plan = planLandlock(policy(), ['true'], {}, machine({ abi: 5, forcedAbi: 5 }));
  const i = plan.args.indexOf('--abi-cap');
  assert.equal(plan.args[i + 1], '5');
  assert.ok(!planLandlock(policy(), ['true'], {}, machine()).args.includes('--abi-cap'));
});

test('a private /tmp is noted unless a writable root is /tmp or holds it', () => {
  assert.ok(planLandlock(policy(), ['true'], {}, machine()).notes.includes('private empty /tmp'));
  // Under /tmp the root comes back inside the private /tmp with its top-level dir, read-only.
  assert.ok(planLandlock(policy({ workspace: '/tmp/stage/ws' }), ['true'], {}, machine()).notes.includes('private empty /tmp'));
  const holding = planLandlock(policy({ writableRoots: ['/tmp'] }), ['true'], {}, machine());
  assert.ok(holding.notes.some((n) => /private-tmp NOT held: \/tmp is the host's/.test(n)));
});

test('with namespaces the helper is told which top-level /tmp entries to keep: those of writable roots and of the command', () => {
  const stage = realpathSync(scratchDir('celistra-plan-stage-', '/tmp'));
  const keep = (args: string[]) => args.flatMap((a, i) => (a === '--keep-tmp' ? [args[i + 1]] : []));
  assert.deepEqual(keep(helperArgs(policy({ workspace: `${stage}/ws` }), ['true'], { namespaces: true })), [stage]);
  mkdirSync(`${stage}/bin`);
  writeFileSync(`${stage}/bin/tool`, '');
  assert.deepEqual(keep(helperArgs(policy(), [`${stage}/bin/tool`], { namespaces: true })), [stage]);
  // Without namespaces there is no private /tmp to keep anything in.
  assert.deepEqual(keep(helperArgs(policy({ workspace: `${stage}/ws` }), ['true'], { namespaces: false })), []);
});

test('only a writable root that is /tmp or holds it marks private-tmp degraded, naming the root and the fix', () => {
  assert.equal(planLandlock(policy(), ['true'], {}, machine()).degraded, undefined);
  assert.equal(planLandlock(policy({ workspace: '/tmp/ws' }), ['true'], {}, machine()).degraded, undefined);
  assert.equal(planLandlock(policy({ writableRoots: ['/tmp/cache'] }), ['true'], {}, machine()).degraded, undefined);
  const plan = planLandlock(policy({ writableRoots: ['/tmp'] }), ['true'], {}, machine());
  assert.deepEqual(Object.keys(plan.degraded ?? {}), ['private-tmp']);
  assert.match(plan.degraded!['private-tmp']!, /the writable \/tmp is or holds \/tmp/);
  assert.match(plan.degraded!['private-tmp']!, /Fix: grant a directory inside \/tmp instead/);
});

test('without user namespaces private-tmp is a machine-wide gap, so no plan marks it degraded', () => {
  const plan = planLandlock(policy({ writableRoots: ['/tmp'] }), ['true'], {}, machine({ userNamespaces: false }), 1000);
  assert.equal(plan.degraded, undefined);
});

test('root without user namespaces is refused unless the metadata gap is accepted explicitly', () => {
  const e = refusal(() => planLandlock(policy(), ['true'], {}, machine({ userNamespaces: false }), 0));
  assert.equal(e.code, 'E_NO_BACKEND');
  assert.match(e.message, /chmod\/chown any system file/);
  const plan = planLandlock(policy(), ['true'], { CELISTRA_LANDLOCK_ROOT_WITHOUT_USERNS: 'accept-metadata-gap' }, machine({ userNamespaces: false }), 0);
  assert.equal(plan.backend, 'landlock');
  assert.equal(planLandlock(policy(), ['true'], {}, machine(), 0).backend, 'landlock', 'root with user namespaces is fine');
});

test('with namespaces the plan says, in Celistra\'s words, that a sandbox inside the fence is refused and what to use instead', () => {
  const plan = planLandlock(policy(), ['true'], {}, machine());
  const note = plan.notes.find((n) => n.startsWith('nested sandboxes refused'));
  assert.ok(note, plan.notes.join('; '));
  assert.match(note, /setting up uid map: Read-only file system/);
  assert.match(note, /--backend bwrap/);
});
