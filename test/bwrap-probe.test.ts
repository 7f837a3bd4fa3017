import { sandboxInitPath } from '../src/backends/bwrap/sandbox-init.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { probeBwrap } from '../src/backends/bwrap/probe.js';
import { locateBwrap } from '../src/backends/bwrap/locate.js';
import { bwrapBackend } from '../src/backends/bwrap/index.js';
import { diagnoseUserns } from '../src/backends/bwrap/userns-diagnosis.js';
import { GUARANTEE_NAMES } from '../src/backends/backend.js';
import { bwrapGuarantees } from '../src/backends/bwrap/guarantees.js';
import { fenceFilterSupported } from '../src/backends/seccomp/fence-filter.js';
import { CelistraError } from '../src/policy/errors.js';
import { scratchDir } from './support/scratch-dir.js';

const linux = process.platform === 'linux';
const installed = locateBwrap(process.env).found;

function fakeBwrap(script: string): string {
  const dir = scratchDir('celistra-fake-bwrap-');
  const p = join(dir, 'bwrap');
  writeFileSync(p, `#!/bin/sh\n${script}\n`);
  chmodSync(p, 0o755);
  return p;
}

test('CELISTRA_BWRAP pointing at a missing file makes bwrap unavailable, with the override named', { skip: !linux }, () => {
  const caps = probeBwrap({ ...process.env, CELISTRA_BWRAP: '/nonexistent/bwrap' });
  assert.equal(caps.available, false);
  assert.match(caps.unavailableReason!, /CELISTRA_BWRAP=\/nonexistent\/bwrap/);
  assert.match(caps.fix!, /CELISTRA_BWRAP/);
});

test('no bwrap on PATH makes it unavailable with the install command as the fix', { skip: !linux }, () => {
  const caps = probeBwrap({ PATH: '/nonexistent' });
  assert.equal(caps.available, false);
  assert.match(caps.fix!, /apt-get install -y bubblewrap/);
  for (const g of GUARANTEE_NAMES) assert.equal(caps.guarantees[g].status, 'gap');
});

test('a bwrap whose trial sandbox fails is unavailable, quoting what it said', { skip: !linux }, () => {
  const fake = fakeBwrap('[ "$1" = --version ] && { echo "bubblewrap 0.8.0"; exit 0; }\necho "bwrap: setting up uid map: Permission denied" >&2\nexit 1');
  const caps = probeBwrap({ ...process.env, CELISTRA_BWRAP: fake });
  assert.equal(caps.available, false);
  assert.match(caps.unavailableReason!, /setting up uid map: Permission denied/);
  assert.equal(caps.details.version, '0.8.0');
  assert.match(String(caps.details.trial_run), /^failed/);
});

test('a binary that is not bwrap (fails --version) is unavailable, never a throw', { skip: !linux }, () => {
  const caps = probeBwrap({ ...process.env, CELISTRA_BWRAP: fakeBwrap('exit 1') });
  assert.equal(caps.available, false);
  assert.match(caps.unavailableReason!, /--version failed/);
});

test('the installed bwrap passes its trial run (seccomp filter loaded) and declares every guarantee held, its init too where Celistra\'s own is built', { skip: !linux || !installed ? 'bwrap not installed' : false }, () => {
  const caps = probeBwrap(process.env);
  assert.equal(caps.available, true, caps.unavailableReason);
  assert.equal(caps.details.trial_run, 'ok');
  assert.match(String(caps.details.version), /^\d+\.\d+/);
  const root = process.getuid?.() === 0;
  const gaps = root || sandboxInitPath() ? [] : ['sandbox-init'];
  for (const g of GUARANTEE_NAMES) assert.equal(caps.guarantees[g].status, gaps.includes(g) ? 'gap' : 'enforced', g);
});

test('the kernel-keyrings, host-knobs and sandbox-init guarantees follow the filter, the uid and Celistra\'s own init', { skip: !fenceFilterSupported() ? 'no seccomp filter for this machine' : false }, () => {
  assert.equal(bwrapGuarantees(true, false)['sandbox-init'].status, 'enforced');
  assert.equal(bwrapGuarantees(false, true)['sandbox-init'].status, 'enforced');
  const unprivileged = bwrapGuarantees(false, false)['sandbox-init'];
  assert.equal(unprivileged.status, 'gap');
  assert.match(unprivileged.status === 'gap' ? unprivileged.reason : '', /\/proc\/1\/mem/);
  for (const asRoot of [true, false]) {
    assert.equal(bwrapGuarantees(asRoot, true)['kernel-keyrings'].status, 'enforced');
    assert.equal(bwrapGuarantees(asRoot, true)['host-knobs'].status, 'enforced');
  }
});

test('plan refuses with E_NO_BACKEND when the probe finds no bwrap', { skip: !linux }, () => {
  const saved = process.env.CELISTRA_BWRAP;
  process.env.CELISTRA_BWRAP = '/nonexistent/bwrap';
  try {
    assert.throws(
      () => bwrapBackend.plan({ version: 1, workspace: '/srv/ws', writableRoots: [], readOnlyPaths: [], denyRead: [], tmpDir: '/tmp/t', network: 'on', unixSockets: 'deny', env: {} }, ['true'], {}),
      (e: unknown) => e instanceof CelistraError && e.code === 'E_NO_BACKEND' && /not found/.test(e.message),
    );
  } finally {
    if (saved === undefined) delete process.env.CELISTRA_BWRAP;
    else process.env.CELISTRA_BWRAP = saved;
  }
});

test("Ubuntu's AppArmor user-namespace restriction is recognised and its sysctl given as the fix", () => {
  const found = diagnoseUserns((f) => (f.endsWith('apparmor_restrict_unprivileged_userns') ? '1' : undefined));
  assert.match(found!.reason, /AppArmor/);
  assert.match(found!.fix, /kernel\.apparmor_restrict_unprivileged_userns=0/);
});

test('no diagnosis is claimed when every user-namespace switch is open', () => {
  const open: Record<string, string> = {
    '/proc/sys/kernel/apparmor_restrict_unprivileged_userns': '0',
    '/proc/sys/kernel/unprivileged_userns_clone': '1',
    '/proc/sys/user/max_user_namespaces': '1000',
  };
  assert.equal(diagnoseUserns((f) => open[f]), undefined);
});

test('with user namespaces forced off, bwrap is unavailable to an unprivileged user but still works as root', { skip: !linux || !installed ? 'bwrap not installed' : false }, () => {
  const caps = probeBwrap({ ...process.env, CELISTRA_FORCE_NO_USERNS: '1' });
  if (process.getuid?.() === 0) {
    assert.equal(caps.available, true, caps.unavailableReason);
  } else {
    assert.equal(caps.available, false);
    assert.match(caps.unavailableReason!, /CELISTRA_FORCE_NO_USERNS=1/);
  }
});
