import { GUARANTEE_NAMES, type Backend, type Capabilities, type LaunchPlan } from '../backend.js';
import { CelistraError } from '../../policy/errors.js';
import type { Policy } from '../../policy/policy.js';
import { fenceFilter, fenceFilterSupported } from '../seccomp/fence-filter.js';
import { fenceFilterNotes, fenceFilterOptions } from '../seccomp/policy-filter.js';
import { bwrapArgs } from './argv.js';
import { BWRAP_OVERRIDE_ENV, locateBwrap } from './locate.js';
import { FORCE_NO_USERNS_ENV } from './userns-diagnosis.js';
import { probeBwrap, runningAsRoot } from './probe.js';
import { wantsPrivateTmp } from './mount-plan.js';
import { findBash, launcherArgs, locateBash } from './launcher.js';
import { forgetProbeCache, probeCacheKey, readProbeCache, writeProbeCache } from '../probe-cache-file.js';
import { bwrapDegraded } from './guarantees.js';
import { sandboxInitPath } from './sandbox-init.js';

// The probe spawns bwrap twice (its version, a trial sandbox): once per process, and a
// working answer is also kept between runs (src/backends/probe-cache-file.ts), keyed by the
// bwrap and bash binaries and the switches below. `doctor` always probes afresh.
const probeCache = new Map<string, Capabilities>();
// Versioned: the answer holds the guarantees, so one written by a Celistra that declared
// others (before the seccomp filter; v3: before the stdio relay held inherited-stdio; v4:
// before Celistra's own init held sandbox-init), and the helper that init is counts in the key is
// not read. An answer that lacks a guarantee added since is probed afresh (isWorkingBwrap).
const CACHE_NAME = 'bwrap-v4';

function isWorkingBwrap(v: unknown): v is Capabilities {
  const c = v as Capabilities | undefined;
  return typeof c === 'object' && c !== null && c.backend === 'bwrap' && c.available === true && typeof c.details?.path === 'string' && typeof c.guarantees === 'object' && c.guarantees !== null && GUARANTEE_NAMES.every((g) => typeof c.guarantees[g]?.status === 'string');
}

function cachedProbe(): Capabilities {
  const envKey = [BWRAP_OVERRIDE_ENV, FORCE_NO_USERNS_ENV, 'PATH'].map((k) => process.env[k] ?? '').join('\0');
  let caps = probeCache.get(envKey);
  if (caps) return caps;
  const loc = locateBwrap(process.env);
  const bash = findBash();
  const init = sandboxInitPath();
  const fileKey = loc.found && bash ? probeCacheKey([loc.path, bash, ...(init ? [init] : [])]) : undefined;
  const key = fileKey === undefined ? undefined : `${fileKey}|${envKey}`;
  caps = key === undefined ? undefined : readProbeCache(CACHE_NAME, key, isWorkingBwrap);
  if (!caps) {
    caps = probeBwrap(process.env);
    // Only a working answer: a machine where bwrap fails keeps telling why, afresh.
    if (key !== undefined && caps.available) writeProbeCache(CACHE_NAME, key, caps);
  }
  probeCache.set(envKey, caps);
  return caps;
}

/** Drop the answer kept between runs (`doctor`). */
export function forgetBwrapProbe(): void {
  forgetProbeCache(CACHE_NAME);
}

function notes(policy: Policy, asRoot: boolean): string[] {
  return [
    'host mounted read-only; workspace, writable roots and TMPDIR bound writable',
    wantsPrivateTmp(policy) ? '/tmp is a private tmpfs' : "private-tmp NOT held: /tmp is the host's (a writable root is /tmp or holds it)",
    `${policy.denyRead.length} read-denied path(s) masked`,
    policy.network === 'off' ? 'network off via a new network namespace' : 'network on (host network namespace)',
    asRoot ? 'running as root: no user namespace, all capabilities dropped' : 'unprivileged user namespace',
    'new pid namespace: no signals or ptrace outside',
    'a new session unless started on Celistra\'s own PTY (no TIOCSTI into the user\'s terminal)',
    'inherited file descriptors above 2 closed before bwrap starts',
    ...fenceFilterNotes(policy, fenceFilterSupported()),
  ];
}

export const bwrapBackend: Backend = {
  name: 'bwrap',
  probe: cachedProbe,
  plan(policy: Policy, argv: string[], baseEnv: Record<string, string>): LaunchPlan {
    const caps = cachedProbe();
    const bwrap = caps.details.path;
    if (!caps.available || typeof bwrap !== 'string') {
      throw new CelistraError('E_NO_BACKEND', `bwrap cannot run here: ${caps.unavailableReason ?? 'unknown reason'}`, caps.fix);
    }
    if (argv.length === 0) throw new CelistraError('E_USAGE', 'no command to run');
    const asRoot = runningAsRoot();
    const plan: LaunchPlan = {
      backend: 'bwrap',
      file: locateBash(),
      args: launcherArgs(bwrap, bwrapArgs(policy, argv, { asRoot, init: sandboxInitPath() }), fenceFilter(fenceFilterOptions(policy))),
      env: { ...baseEnv, ...policy.env },
      cwd: policy.workspace,
      notes: notes(policy, asRoot),
    };
    const degraded = bwrapDegraded(policy);
    if (degraded) plan.degraded = degraded;
    return plan;
  },
};
