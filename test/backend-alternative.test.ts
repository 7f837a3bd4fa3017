/**
 * A refusal's fix names another backend only where that backend is usable on this
 * machine (src/run/backend-alternative.ts): "use --backend bwrap" from a landlock refusal
 * used to be said even where bwrap could not run either (issue 15).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Capabilities } from '../src/backends/backend.js';
import { fixWithAlternative } from '../src/run/backend-alternative.js';
import { runCelistra } from './support/celistra-cli.js';
import { isolatedEnv } from './support/isolated-env.js';
import { landlockBackend } from '../src/backends/landlock/index.js';
import { bwrapBackend } from '../src/backends/bwrap/index.js';

function caps(backend: Capabilities['backend'], available: boolean, unavailableReason?: string): Capabilities {
  return { backend, available, unavailableReason, details: {}, guarantees: {} as Capabilities['guarantees'] };
}

test('another usable backend of this system is named; one of another system never is', () => {
  const probed = [caps('landlock', false, 'no Landlock'), caps('bwrap', true), caps('seatbelt', false, 'macOS only')];
  assert.equal(fixWithAlternative('landlock', 'boot a kernel with Landlock enabled', probed, 'linux'), 'boot a kernel with Landlock enabled; or use --backend bwrap');
  assert.equal(fixWithAlternative('bwrap', undefined, [caps('landlock', true), caps('bwrap', false, 'x'), caps('seatbelt', false, 'macOS only')], 'linux'), 'or use --backend landlock');
});

test('where no other backend is usable, the fix says why instead of pointing at it', () => {
  const probed = [caps('landlock', false, 'no Landlock'), caps('bwrap', false, 'no bwrap on PATH'), caps('seatbelt', false, 'macOS only')];
  const fix = fixWithAlternative('landlock', 'boot a kernel with Landlock enabled', probed, 'linux');
  assert.equal(fix, 'boot a kernel with Landlock enabled; bwrap is not usable here either: no bwrap on PATH');
  // On macOS, seatbelt has no other backend of its system to name: its own fix stands;
  // and on Linux, its fix already says what to use instead.
  assert.equal(fixWithAlternative('seatbelt', 'run on macOS 12+', probed, 'darwin'), 'run on macOS 12+');
  assert.equal(fixWithAlternative('seatbelt', 'on Linux use the landlock or bwrap backend', probed, 'linux'), 'on Linux use the landlock or bwrap backend');
});

const rootSkip = process.getuid?.() !== 0 ? 'the landlock refusal of root without user namespaces needs root' : landlockBackend.probe().available ? false : 'landlock unavailable here';

function refusedRun(extra: Record<string, string>): string {
  const iso = isolatedEnv('celistra-backend-alt-');
  const ws = join(iso.root, 'ws');
  mkdirSync(ws);
  const marker = join(ws, 'ran');
  const r = runCelistra(['run', '--backend', 'landlock', '--workspace', ws, '--', 'touch', marker], { env: { ...iso.env, CELISTRA_FORCE_NO_USERNS: '1', ...extra } });
  assert.equal(r.status, 67, r.stderr.toString()); // E_NO_BACKEND
  assert.equal(existsSync(marker), false);
  return r.stderr.toString();
}

test('run --backend landlock refused, bwrap unusable too: the hint does not send you to bwrap, and says why', { skip: rootSkip }, () => {
  const said = refusedRun({ CELISTRA_BWRAP: '/nonexistent/bwrap' });
  assert.match(said, /running as root without user namespaces/);
  assert.doesNotMatch(said, /use --backend bwrap/);
  assert.match(said, /bwrap is not usable here either: /);
});

test('run --backend landlock refused, bwrap usable: the hint names it', { skip: rootSkip || (bwrapBackend.probe().available ? false : 'bwrap unavailable here') }, () => {
  const said = refusedRun({});
  assert.match(said, /or use --backend bwrap/);
});

test('doctor --json: landlock\'s fix names bwrap only where bwrap is usable', { skip: rootSkip }, () => {
  const iso = isolatedEnv('celistra-backend-alt-doctor-');
  const r = runCelistra(['doctor', '--json'], { env: { ...iso.env, CELISTRA_FORCE_NO_USERNS: '1', CELISTRA_BWRAP: '/nonexistent/bwrap' } });
  const report = JSON.parse(r.stdout.toString()) as { backends: { backend: string; fix?: string }[] };
  const fix = report.backends.find((b) => b.backend === 'landlock')?.fix ?? '';
  assert.doesNotMatch(fix, /--backend bwrap/);
  assert.match(fix, /bwrap is not usable here either/);
});
