/**
 * Root without user namespaces: Landlock alone cannot stop chmod/chown, so every Landlock
 * plan is refused unless the gap is accepted (src/backends/landlock/plan.ts). The probe
 * says so too, so that `doctor` and `auto` do not name a backend that would refuse every
 * run (a root shell in a container is the usual case). User namespaces are switched off
 * with the probe's test switch, CELISTRA_FORCE_NO_USERNS.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { runCelistra } from './support/celistra-cli.js';
import { isolatedEnv } from './support/isolated-env.js';
import { landlockBackend } from '../src/backends/landlock/index.js';
import { bwrapBackend } from '../src/backends/bwrap/index.js';

const skip = process.getuid?.() !== 0 ? 'only root is refused without user namespaces' : landlockBackend.probe().available ? false : 'landlock unavailable here';

interface Report {
  auto: string | null;
  backends: { backend: string; available: boolean; unavailableReason?: string; fix?: string }[];
}

function doctor(extra: Record<string, string>): { status: number | null; report: Report } {
  const iso = isolatedEnv('celistra-root-userns-');
  const r = runCelistra(['doctor', '--json'], { env: { ...iso.env, CELISTRA_FORCE_NO_USERNS: '1', ...extra } });
  return { status: r.status, report: JSON.parse(r.stdout.toString()) as Report };
}

test('as root without user namespaces, doctor reports landlock unusable and auto names what a run would use', { skip }, () => {
  const { status, report } = doctor({});
  const landlock = report.backends.find((b) => b.backend === 'landlock')!;
  assert.equal(landlock.available, false);
  assert.match(landlock.unavailableReason ?? '', /running as root without user namespaces/);
  assert.match(landlock.fix ?? '', /CELISTRA_LANDLOCK_ROOT_WITHOUT_USERNS=accept-metadata-gap/);
  const bwrapUsable = bwrapBackend.probe().available;
  assert.equal(report.auto, bwrapUsable ? 'bwrap' : null);
  assert.equal(status, bwrapUsable ? 0 : 1);

  // The same machine with the gap accepted: landlock again, as a run would then use it.
  const accepted = doctor({ CELISTRA_LANDLOCK_ROOT_WITHOUT_USERNS: 'accept-metadata-gap' });
  assert.equal(accepted.report.auto, 'landlock');
  assert.equal(accepted.report.backends.find((b) => b.backend === 'landlock')!.available, true);
});

test('as root without user namespaces, run --backend landlock refuses with the reason and runs nothing', { skip }, () => {
  const iso = isolatedEnv('celistra-root-userns-run-');
  const ws = join(iso.root, 'ws');
  mkdirSync(ws);
  const marker = join(ws, 'ran');
  const r = runCelistra(['run', '--backend', 'landlock', '--workspace', ws, '--', 'touch', marker], { env: { ...iso.env, CELISTRA_FORCE_NO_USERNS: '1' } });
  assert.equal(r.status, 67, r.stderr.toString()); // E_NO_BACKEND
  assert.match(r.stderr.toString(), /running as root without user namespaces/);
  assert.equal(existsSync(marker), false);
});
