import { childProcess } from '../../lazy/child-process.js';
import { existsSync, mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { os } from '../../lazy/os.js';
import { join } from 'node:path';
import { allGaps, type Capabilities } from '../backend.js';
import type { Policy } from '../../policy/policy.js';
import { seatbeltGuarantees } from './guarantees.js';
import { sandboxExecArgs, seatbeltProfile } from './profile.js';
import { withInheritedFdsClosed } from './inherited-fds.js';

export const SANDBOX_EXEC = '/usr/bin/sandbox-exec';
const TRIAL_TIMEOUT_MS = 10_000;

function unavailable(reason: string, fix: string, details: Capabilities['details']): Capabilities {
  return { backend: 'seatbelt', available: false, unavailableReason: reason, fix, details, guarantees: allGaps(`seatbelt unusable here: ${reason}`) };
}

/** A policy with every kind of rule present, so the trial compiles every construct the generator emits. */
function trialPolicy(dir: string, network: Policy['network']): Policy {
  return {
    version: 1,
    workspace: dir,
    writableRoots: [join(dir, 'root')],
    readOnlyPaths: [join(dir, 'ro', 'file')],
    denyRead: [join(dir, 'denied')],
    tmpDir: join(dir, 'denied', 'tmp'),
    network,
    unixSockets: 'deny',
    env: {},
  };
}

/** Available only on macOS with sandbox-exec present and accepting our profiles. Never throws. */
export function probeSeatbelt(platform: NodeJS.Platform = process.platform, sandboxExec = SANDBOX_EXEC): Capabilities {
  if (platform !== 'darwin') {
    return unavailable(`Seatbelt (sandbox-exec) exists only on macOS; this is ${platform}`, 'on Linux use the landlock or bwrap backend', {});
  }
  if (!existsSync(sandboxExec)) {
    return unavailable(`${sandboxExec} not found`, 'sandbox-exec ships with macOS; restore it (it is part of the base system) or use --backend none knowingly', {});
  }
  const details: Capabilities['details'] = { sandbox_exec: sandboxExec, darwin_kernel: os().release() };
  let dir: string;
  try {
    dir = realpathSync(mkdtempSync(join(os().tmpdir(), 'celistra-seatbelt-probe-')));
  } catch (e) {
    return unavailable(`cannot create a scratch dir for the trial run: ${(e as Error).message}`, 'make the temp dir ($TMPDIR) writable', details);
  }
  try {
    for (const network of ['off', 'on'] as const) {
      // The same path a real command takes: bash closing descriptors, then the command.
      const args = sandboxExecArgs(seatbeltProfile(trialPolicy(dir, network)), withInheritedFdsClosed(['/usr/bin/true']));
      const trial = childProcess().spawnSync(sandboxExec, args, { encoding: 'utf8', timeout: TRIAL_TIMEOUT_MS });
      if (trial.error || trial.status !== 0) {
        const said = trial.error?.message ?? (trial.stderr.trim().split('\n')[0] || `exit status ${trial.status}`);
        details.trial_run = `failed (network ${network}): ${said}`;
        return unavailable(`sandbox-exec rejected Celistra's profile: ${said}`, 'please report this with `celistra doctor --json` output', details);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  details.trial_run = 'ok';
  return { backend: 'seatbelt', available: true, details, guarantees: seatbeltGuarantees() };
}
