import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Policy } from '../src/policy/policy.js';
import { errorCode } from './support/error-code.js';
import { bwrapArgs } from '../src/backends/bwrap/argv.js';
import { mountSteps } from '../src/backends/bwrap/mount-plan.js';
import { bwrapDegraded } from '../src/backends/bwrap/guarantees.js';
import { scratchDir } from './support/scratch-dir.js';

const OPTS = { asRoot: false };

/** A realistic policy over real directories (mask kinds depend on file vs directory). */
function stage(base = realpathSync(scratchDir('celistra-bwrap-argv-'))) {
  const dirs = {
    ws: join(base, 'ws'),
    extra: join(base, 'extra'),
    ssh: join(base, 'home', '.ssh'),
    runtime: join(base, 'run', 'celistra'),
    tmp: join(base, 'run', 'celistra', 'tmp', 'run-1'),
    secretInWs: join(base, 'ws', 'secrets'),
  };
  for (const d of Object.values(dirs)) mkdirSync(d, { recursive: true });
  const netrc = join(base, 'home', '.netrc');
  writeFileSync(netrc, 'machine x');
  const gitPointer = join(dirs.ws, '.git');
  writeFileSync(gitPointer, 'gitdir: /elsewhere');
  const policy: Policy = {
    version: 1,
    workspace: dirs.ws,
    writableRoots: [dirs.extra],
    readOnlyPaths: [gitPointer],
    denyRead: [dirs.ssh, netrc, dirs.runtime, dirs.secretInWs],
    tmpDir: dirs.tmp,
    unixSockets: 'deny',
    network: 'off',
    env: { TMPDIR: dirs.tmp },
  };
  return { base, dirs, netrc, gitPointer, policy };
}

/** Index of the option `opt` whose first operand is `path` (e.g. `--bind P P`). */
function at(args: string[], opt: string, path: string): number {
  for (let i = 0; i < args.length - 1; i++) if (args[i] === opt && args[i + 1] === path) return i;
  return -1;
}

test('the host is mounted read-only first, with a fresh /dev and /proc', () => {
  const { policy } = stage();
  const args = bwrapArgs(policy, ['true'], OPTS);
  const root = at(args, '--ro-bind', '/');
  assert.equal(args[root + 2], '/');
  assert.ok(root >= 0 && root < at(args, '--dev', '/dev') && at(args, '--dev', '/dev') < at(args, '--proc', '/proc'));
  for (const opt of ['--bind', '--tmpfs']) {
    const first = args.indexOf(opt);
    if (first !== -1) assert.ok(first > root, `${opt} must come after --ro-bind / /`);
  }
});

test('workspace, writable roots and TMPDIR are bound writable onto themselves', () => {
  const { policy, dirs } = stage();
  const args = bwrapArgs(policy, ['true'], OPTS);
  for (const d of [dirs.ws, dirs.extra, dirs.tmp]) {
    const i = at(args, '--bind', d);
    assert.ok(i >= 0, `missing --bind ${d}`);
    assert.equal(args[i + 2], d);
  }
});

test('read-denied directories get a tmpfs and read-denied files a nodev device node', () => {
  const { policy, dirs, netrc } = stage();
  const args = bwrapArgs(policy, ['true'], OPTS);
  assert.ok(at(args, '--tmpfs', dirs.ssh) >= 0);
  const f = at(args, '--ro-bind', '/dev/null');
  assert.equal(args[f + 2], netrc);
});

test('the runtime dir is masked before the private TMPDIR inside it is bound back', () => {
  const { policy, dirs } = stage();
  const args = bwrapArgs(policy, ['true'], OPTS);
  const mask = at(args, '--tmpfs', dirs.runtime);
  const rebind = at(args, '--bind', dirs.tmp);
  assert.ok(mask >= 0 && rebind > mask, `mask at ${mask}, rebind at ${rebind}`);
});

test('masks become read-only only after everything inside them is bound', () => {
  const { policy, dirs } = stage();
  const args = bwrapArgs(policy, ['true'], OPTS);
  const remount = at(args, '--remount-ro', dirs.runtime);
  assert.ok(remount > at(args, '--bind', dirs.tmp));
  assert.ok(at(args, '--remount-ro', dirs.ssh) > at(args, '--tmpfs', dirs.ssh));
});

test('a denied directory inside the workspace is masked after the workspace bind', () => {
  const { policy, dirs } = stage();
  const args = bwrapArgs(policy, ['true'], OPTS);
  assert.ok(at(args, '--tmpfs', dirs.secretInWs) > at(args, '--bind', dirs.ws));
});

test('read-only carve-outs come after the writable bind that contains them', () => {
  const { policy, dirs, gitPointer } = stage();
  const args = bwrapArgs(policy, ['true'], OPTS);
  const ro = at(args, '--ro-bind', gitPointer);
  assert.ok(ro > at(args, '--bind', dirs.ws));
  assert.equal(args[ro + 2], gitPointer);
});

test('a read-only carve-out inside a masked directory is not bound back', () => {
  const { policy, dirs } = stage();
  const hidden = join(dirs.ssh, 'config');
  writeFileSync(hidden, 'Host *');
  const args = bwrapArgs({ ...policy, readOnlyPaths: [hidden] }, ['true'], OPTS);
  assert.equal(at(args, '--ro-bind', hidden), -1);
});

test('a missing read-only path is refused rather than left creatable', () => {
  const { policy, dirs } = stage();
  assert.equal(errorCode(() => bwrapArgs({ ...policy, readOnlyPaths: [join(dirs.ws, 'nope')] }, ['true'], OPTS)), 'E_NO_BACKEND');
});

test('a workspace that is itself read-denied is refused', () => {
  const { policy, dirs } = stage();
  assert.equal(errorCode(() => bwrapArgs({ ...policy, denyRead: [dirs.ws] }, ['true'], OPTS)), 'E_POLICY');
});

test('network off unshares the network namespace; network on does not', () => {
  const { policy } = stage();
  assert.ok(bwrapArgs(policy, ['true'], OPTS).includes('--unshare-net'));
  assert.ok(!bwrapArgs({ ...policy, network: 'on' }, ['true'], OPTS).includes('--unshare-net'));
});

test('every plan isolates pid, ipc and uts, dies with its parent and drops capabilities', () => {
  const { policy } = stage();
  for (const asRoot of [true, false]) {
    const args = bwrapArgs(policy, ['true'], { ...OPTS, asRoot });
    for (const flag of ['--unshare-pid', '--unshare-ipc', '--unshare-uts', '--die-with-parent']) assert.ok(args.includes(flag), flag);
    const cap = args.indexOf('--cap-drop');
    assert.equal(args[cap + 1], 'ALL');
  }
});

test('a user namespace is requested only when not root', () => {
  const { policy } = stage();
  assert.ok(bwrapArgs(policy, ['true'], OPTS).includes('--unshare-user'));
  assert.ok(!bwrapArgs(policy, ['true'], { ...OPTS, asRoot: true }).includes('--unshare-user'));
});

test('as root /proc is remounted read-only right after it is mounted; unprivileged it stays writable for a nested sandbox', () => {
  const { policy } = stage();
  const root = bwrapArgs(policy, ['true'], { ...OPTS, asRoot: true });
  assert.equal(at(root, '--remount-ro', '/proc'), at(root, '--proc', '/proc') + 2);
  assert.equal(at(bwrapArgs(policy, ['true'], OPTS), '--remount-ro', '/proc'), -1);
});

test('the command follows -- untouched, after --chdir into the workspace', () => {
  const { policy, dirs } = stage();
  const argv = ['sh', '-c', 'echo "$1"', '--', '--bind'];
  const args = bwrapArgs(policy, argv, OPTS);
  const dash = args.indexOf('--');
  assert.deepEqual(args.slice(dash + 1), argv);
  assert.equal(args[args.indexOf('--chdir') + 1], dirs.ws);
  assert.ok(args.indexOf('--chdir') < dash);
});

/** A policy of literal paths, for the /tmp rules (which need no filesystem lookups). */
function literalPolicy(over: Partial<Policy>): Policy {
  return { version: 1, workspace: '/srv/ws', writableRoots: [], readOnlyPaths: [], denyRead: [], tmpDir: '/tmp/celistra-0/tmp/run-1', network: 'on', unixSockets: 'deny', env: {}, ...over };
}

test('/tmp is a private tmpfs when nothing writable lies under it, with TMPDIR bound back', () => {
  const steps = mountSteps(literalPolicy({}));
  assert.deepEqual(steps.map((x) => `${x.kind} ${x.path}`), ['private-tmp /tmp', 'writable /srv/ws', 'writable /tmp/celistra-0/tmp/run-1']);
});

test('a writable root under /tmp comes back inside the private /tmp with its top-level dir, read-only', () => {
  // Real dirs: a top that does not exist is not kept (there is nothing to bind).
  const stage = realpathSync(scratchDir('celistra-argv-stage-', '/tmp'));
  const cache = realpathSync(scratchDir('celistra-argv-cache-', '/tmp'));
  const steps = mountSteps(literalPolicy({ workspace: `${stage}/wt-a`, writableRoots: [`${stage}/main/.git/celistra/worktrees/a`, cache] }));
  assert.deepEqual(steps.map((x) => `${x.kind} ${x.path}`), [
    'private-tmp /tmp',
    `tmp-top ${stage}`,
    `tmp-top ${cache}`,
    `writable ${cache}`,
    `writable ${stage}/wt-a`,
    'writable /tmp/celistra-0/tmp/run-1',
    `writable ${stage}/main/.git/celistra/worktrees/a`,
  ]);
  const args = bwrapArgs(literalPolicy({ workspace: `${stage}/wt-a` }), ['true'], OPTS);
  const at = args.indexOf('/tmp') - 1;
  assert.deepEqual(args.slice(at, at + 8), ['--tmpfs', '/tmp', '--ro-bind', stage, stage, '--bind', `${stage}/wt-a`, `${stage}/wt-a`]);
});

test('a command given by a path under /tmp keeps its top-level dir too, where its symlink leads included', () => {
  const tool = realpathSync(scratchDir('celistra-argv-tool-', '/tmp'));
  const pkg = realpathSync(scratchDir('celistra-argv-pkg-', '/tmp'));
  writeFileSync(join(pkg, 'cli.js'), '');
  symlinkSync(join(pkg, 'cli.js'), join(tool, 'agent'));
  const steps = mountSteps(literalPolicy({}), [join(tool, 'agent'), '--help']);
  assert.deepEqual(steps.filter((x) => x.kind === 'tmp-top').map((x) => x.path).sort(), [pkg, tool].sort());
});

test('a script given by a path under /tmp as an argument keeps its top-level dir; relative arguments and missing paths do not', () => {
  const scripts = realpathSync(scratchDir('celistra-argv-script-', '/tmp'));
  writeFileSync(join(scripts, 'run.js'), '');
  const steps = mountSteps(literalPolicy({}), ['node', join(scripts, 'run.js'), 'relative/arg', '/tmp/celistra-argv-missing/x']);
  assert.deepEqual(steps.filter((x) => x.kind === 'tmp-top').map((x) => x.path), [scripts]);
});

test('a denied path inside a re-exposed top is masked; one elsewhere in /tmp is hidden by the tmpfs', () => {
  const steps = mountSteps(literalPolicy({ workspace: '/tmp/stage/ws', denyRead: ['/tmp/celistra-0'] }));
  assert.ok(!steps.some((x) => x.path === '/tmp/celistra-0'), JSON.stringify(steps));
});

test('only a writable root that is /tmp or holds it keeps the host /tmp, and marks private-tmp degraded', () => {
  assert.equal(bwrapDegraded(literalPolicy({})), undefined);
  assert.equal(bwrapDegraded(literalPolicy({ workspace: '/tmp/ws' })), undefined);
  const policy = literalPolicy({ writableRoots: ['/tmp'] });
  assert.ok(!mountSteps(policy).some((x) => x.kind === 'private-tmp'));
  const degraded = bwrapDegraded(policy);
  assert.deepEqual(Object.keys(degraded ?? {}), ['private-tmp']);
  assert.match(degraded!['private-tmp']!, /^the writable \/tmp is or holds \/tmp, so the agent shares the host's \/tmp/);
});

test('denied paths under a private /tmp need no mask: the tmpfs already hides them', () => {
  const steps = mountSteps(literalPolicy({ denyRead: ['/tmp/celistra-0'] }));
  assert.ok(!steps.some((x) => x.kind === 'mask-dir' || x.kind === 'mask-file'));
  assert.ok(steps.some((x) => x.kind === 'writable' && x.path === '/tmp/celistra-0/tmp/run-1'));
});

test('with Celistra\'s init, bwrap runs it as pid 1 (--as-pid-1) and it runs the command; without, bwrap keeps its own', () => {
  const { policy } = stage();
  const own = bwrapArgs(policy, ['true', 'x'], { asRoot: false, init: '/opt/celistra/celistra-exec' });
  assert.ok(own.includes('--as-pid-1'));
  assert.deepEqual(own.slice(own.indexOf('--') + 1), ['/opt/celistra/celistra-exec', '--sandbox-init', '--', 'true', 'x']);
  const theirs = bwrapArgs(policy, ['true', 'x'], OPTS);
  assert.equal(theirs.includes('--as-pid-1'), false);
  assert.deepEqual(theirs.slice(theirs.indexOf('--') + 1), ['true', 'x']);
});
