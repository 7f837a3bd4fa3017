import type { Backend, Capabilities, LaunchPlan } from '../backend.js';
import { CelistraError } from '../../policy/errors.js';
import { unixSocketsAllowed, type Policy } from '../../policy/policy.js';
import { seatbeltDegraded } from './guarantees.js';
import { SANDBOX_EXEC, probeSeatbelt } from './probe.js';
import { sandboxExecArgs, seatbeltProfile } from './profile.js';
import { withInheritedFdsClosed } from './inherited-fds.js';

let cached: Capabilities | undefined;

// The probe runs sandbox-exec twice; once per process is enough.
function cachedProbe(): Capabilities {
  cached ??= probeSeatbelt();
  return cached;
}

/** Build the sandbox-exec plan for a policy; separate from the probe so it is testable anywhere. */
export function seatbeltPlan(policy: Policy, argv: string[], baseEnv: Record<string, string>): LaunchPlan {
  if (argv.length === 0) throw new CelistraError('E_USAGE', 'no command to run');
  const profile = seatbeltProfile(policy);
  const plan: LaunchPlan = {
    backend: 'seatbelt',
    file: SANDBOX_EXEC,
    args: sandboxExecArgs(profile, withInheritedFdsClosed(argv)),
    env: { ...baseEnv, ...policy.env },
    cwd: policy.workspace,
    notes: [
      'Seatbelt profile: deny by default; reads allowed except read-denied paths',
      'writes only in the workspace, writable roots and TMPDIR',
      policy.network === 'off' ? 'network off (unix sockets in writable roots only)' : 'network on',
      'inherited file descriptors above 2 closed before the command starts',
      unixSocketsAllowed(policy) ? 'unix sockets ALLOWED (--allow-unix-sockets)' : 'unix sockets only inside the writable roots',
    ],
  };
  const degraded = seatbeltDegraded(policy);
  if (degraded) plan.degraded = degraded;
  return plan;
}

export const seatbeltBackend: Backend = {
  name: 'seatbelt',
  probe: cachedProbe,
  plan(policy, argv, baseEnv) {
    const caps = cachedProbe();
    if (!caps.available) {
      throw new CelistraError('E_NO_BACKEND', `seatbelt cannot run here: ${caps.unavailableReason ?? 'unknown reason'}`, caps.fix);
    }
    return seatbeltPlan(policy, argv, baseEnv);
  },
};
