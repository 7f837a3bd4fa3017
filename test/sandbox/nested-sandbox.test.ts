/**
 * Inside another sandbox or a container, user namespaces often work while a fresh /proc
 * cannot be mounted: the kernel refuses one while the existing /proc has files hidden
 * under mounts (Docker masks /proc/keys, /proc/kcore and others). The helper's init
 * mounts /proc for the agent's pid namespace, so there every namespaced run failed (122).
 * The addon's probe now tries what the init does (native/src/namespace-probe.c), reports
 * the namespaces unusable, and `auto` picks a composition that holds there. The outer
 * sandbox here is bubblewrap with /proc/keys masked, as Docker does.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CELISTRA_BIN } from '../support/celistra-cli.js';
import { isolatedEnv } from '../support/isolated-env.js';
import { snapshotTree } from '../support/fence-stage.js';
import { landlockBackend } from '../../src/backends/landlock/index.js';
import { locateBwrap } from '../../src/backends/bwrap/locate.js';
import { nativeBuild } from '../../src/backends/landlock/native-addon.js';
import { HELPER_EXIT } from '../../src/backends/landlock/helper-exit-codes.js';

// Found as Celistra finds it (PATH): the run inside the outer sandbox looks for it there too.
const bwrap = locateBwrap(process.env);
const BWRAP = bwrap.found ? bwrap.path : undefined;
const caps = landlockBackend.probe();
const skip = !BWRAP
  ? 'bubblewrap is not installed (apt-get install -y bubblewrap)'
  : !caps.available
    ? `landlock unavailable here: ${caps.unavailableReason}`
    : caps.details.userNamespaces
      ? false
      : 'no user namespaces here, so none to nest';

/** argv run inside a bubblewrap sandbox with its own user and pid namespaces and /proc/keys masked. */
function nested(argv: string[], env: Record<string, string>, cwd: string) {
  const outer = ['--dev-bind', '/', '/', '--proc', '/proc', '--ro-bind', '/dev/null', '/proc/keys', '--unshare-user', '--unshare-pid', '--die-with-parent', '--chdir', cwd];
  const r = spawnSync(BWRAP!, [...outer, '--', ...argv], { env, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const PROBE = `const m = { exports: {} }; process.dlopen(m, ${JSON.stringify(nativeBuild().addonPath)}); process.stdout.write(JSON.stringify(m.exports.probe()));`;

test('in a sandbox that cannot mount a fresh /proc, the probe says namespaces are unusable and a run still runs fenced', { skip }, () => {
  const iso = isolatedEnv('celistra-nested-');
  const ws = join(iso.root, 'ws');
  const outside = join(iso.root, 'outside');
  mkdirSync(ws);
  mkdirSync(outside);
  writeFileSync(join(outside, 'f'), 'outside\n');
  const before = snapshotTree(outside);

  // On this machine, outside any sandbox, the same probe finds them usable.
  const host = JSON.parse(spawnSync(process.execPath, ['-e', PROBE], { encoding: 'utf8' }).stdout) as { userNamespaces: boolean };
  assert.equal(host.userNamespaces, true);

  const inside = nested([process.execPath, '-e', PROBE], iso.env, ws);
  assert.equal(inside.status, 0, inside.stderr);
  const facts = JSON.parse(inside.stdout) as { userNamespaces: boolean; userNamespacesError?: string };
  assert.equal(facts.userNamespaces, false);
  assert.match(facts.userNamespacesError ?? '', /^mount \/proc: /);

  // The probe is right: the helper with namespaces cannot build its fence there.
  const helper = nested([nativeBuild().helperPath, '--namespaces', '--write', ws, '--', 'true'], iso.env, ws);
  assert.equal(helper.status, HELPER_EXIT.namespace, helper.stderr);
  assert.match(helper.stderr, /cannot mount \/proc/);

  // A run picks what holds there (bwrap as root, Landlock alone as a user) and stays fenced.
  const script = `echo inside > mine && cat mine; echo evil > '${join(outside, 'f')}' 2>/dev/null && echo WROTE; touch '${join(outside, 'new')}' 2>/dev/null && echo CREATED; exit 0`;
  const run = nested([process.execPath, CELISTRA_BIN, 'run', '--workspace', ws, '--', 'sh', '-c', script], iso.env, ws);
  assert.equal(run.status, 0, run.stderr);
  assert.equal(run.stdout, 'inside\n');
  assert.deepEqual(snapshotTree(outside), before);
});
