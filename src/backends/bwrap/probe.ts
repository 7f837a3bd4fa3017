import { sandboxInitPath } from './sandbox-init.js';
import { childProcess } from '../../lazy/child-process.js';
import { allGaps, type Capabilities } from '../backend.js';
import { bwrapGuarantees } from './guarantees.js';
import { isolationArgs } from './argv.js';
import { BWRAP_OVERRIDE_ENV, locateBwrap } from './locate.js';
import { findBash, launcherArgs } from './launcher.js';
import { fenceFilter } from '../seccomp/fence-filter.js';
import { FORCE_NO_USERNS_ENV, diagnoseUserns, usernsSwitches } from './userns-diagnosis.js';

const TRIAL_TIMEOUT_MS = 10_000;

export function runningAsRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

function firstLine(s: string): string {
  return s.trim().split('\n')[0] ?? '';
}

function unavailable(reason: string, fix: string, details: Capabilities['details']): Capabilities {
  return { backend: 'bwrap', available: false, unavailableReason: reason, fix, details, guarantees: allGaps(`bwrap unusable here: ${reason}`) };
}

/**
 * Find bwrap and prove it works here by a trial run with the same namespaces and
 * mount kinds a real plan uses (network off, the stricter case). Never throws.
 */
export function probeBwrap(env: NodeJS.ProcessEnv = process.env): Capabilities {
  if (process.platform !== 'linux') {
    return unavailable(`bubblewrap is Linux-only (this is ${process.platform})`, 'use the seatbelt backend on macOS', {});
  }
  const loc = locateBwrap(env);
  if (!loc.found) {
    return unavailable(`bwrap not found (${loc.searched})`, env[BWRAP_OVERRIDE_ENV] ? `point ${BWRAP_OVERRIDE_ENV} at the bwrap binary, or unset it` : 'install bubblewrap: apt-get install -y bubblewrap', {});
  }
  const bash = findBash();
  if (!bash) {
    return unavailable('bash not found (/bin/bash, /usr/bin/bash): Celistra starts bwrap through a short bash script', 'install bash (apt-get install -y bash)', { path: loc.path });
  }
  const asRoot = runningAsRoot();
  const details: Capabilities['details'] = { path: loc.path, found_via: loc.via, as_root: asRoot, user_namespace: asRoot ? 'not needed (root; capabilities dropped)' : 'required', ...usernsSwitches() };

  const version = childProcess().spawnSync(loc.path, ['--version'], { encoding: 'utf8', timeout: TRIAL_TIMEOUT_MS });
  if (version.error || version.status !== 0) {
    return unavailable(`${loc.path} --version failed: ${version.error?.message ?? firstLine(version.stderr)}`, 'reinstall bubblewrap: apt-get install --reinstall bubblewrap', details);
  }
  details.version = firstLine(version.stdout).replace(/^bubblewrap\s+/, '');

  // Root needs no user namespace (bwrap runs privileged), so the forced mode only
  // affects unprivileged users, exactly as a kernel without user namespaces would.
  if (!asRoot && env[FORCE_NO_USERNS_ENV] === '1') {
    return unavailable(`user namespaces are unavailable (forced by ${FORCE_NO_USERNS_ENV}=1), and bwrap needs one when not run as root`, 'enable unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1, user.max_user_namespaces>0; on Ubuntu 24.04 kernel.apparmor_restrict_unprivileged_userns=0)', details);
  }

  const trialArgs = [
    ...isolationArgs({ asRoot }, 'off'),
    '--ro-bind', '/', '/', '--dev', '/dev', '--proc', '/proc',
    '--tmpfs', '/tmp', '--remount-ro', '/tmp', '--chdir', '/',
    '--', 'true',
  ];
  // Through the launch script, as a real plan is (it adds --new-session here: not a session
  // leader), with the strictest seccomp filter a plan loads.
  const trial = childProcess().spawnSync(bash, launcherArgs(loc.path, trialArgs, fenceFilter({ unixSockets: 'refuse', network: 'off' })), { encoding: 'utf8', timeout: TRIAL_TIMEOUT_MS, env: { PATH: env.PATH ?? '/usr/bin:/bin' } });
  if (trial.error || trial.status !== 0) {
    const said = trial.error?.message ?? (firstLine(trial.stderr) || `exit status ${trial.status}`);
    details.trial_run = `failed: ${said}`;
    const known = asRoot ? undefined : diagnoseUserns();
    if (known) return unavailable(`${known.reason}; the trial run said: ${said}`, known.fix, details);
    return unavailable(`a trial sandbox failed here: ${said}`, 'run `bwrap --ro-bind / / --unshare-pid --unshare-net true` to see why; inside a container, allow user namespaces (e.g. Docker: --security-opt seccomp=unconfined)', details);
  }
  details.trial_run = 'ok';
  return { backend: 'bwrap', available: true, details, guarantees: bwrapGuarantees(asRoot, sandboxInitPath() !== undefined) };
}
