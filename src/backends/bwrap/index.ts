import type { Backend, Capabilities, LaunchPlan } from '../../core/backend.js';
import { CelistraError } from '../../core/errors.js';
import type { Policy } from '../../core/policy.js';
import { bwrapArgs } from './argv.js';
import { BWRAP_OVERRIDE_ENV } from './locate.js';
import { FORCE_NO_USERNS_ENV } from './userns-diagnosis.js';
import { probeBwrap, runningAsRoot } from './probe.js';
import { wantsPrivateTmp } from './mount-plan.js';
import { launcherArgs, locateBash } from './launcher.js';
import { bwrapDegraded } from './guarantees.js';

// The probe spawns bwrap twice; once per process is enough unless the inputs change.
const probeCache = new Map<string, Capabilities>();

function cachedProbe(): Capabilities {
  const key = [BWRAP_OVERRIDE_ENV, FORCE_NO_USERNS_ENV, 'PATH'].map((k) => process.env[k] ?? '').join('\0');
  let caps = probeCache.get(key);
  if (!caps) {
    caps = probeBwrap(process.env);
    probeCache.set(key, caps);
  }
  return caps;
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
      args: launcherArgs(bwrap, bwrapArgs(policy, argv, { asRoot })),
      env: { ...baseEnv, ...policy.env },
      cwd: policy.workspace,
      notes: notes(policy, asRoot),
    };
    const degraded = bwrapDegraded(policy);
    if (degraded) plan.degraded = degraded;
    return plan;
  },
};
