import { NESTED_SANDBOXES_REFUSED } from './nested-sandboxes.js';
import type { LaunchPlan } from '../backend.js';
import { CelistraError } from '../../policy/errors.js';
import type { Policy } from '../../policy/policy.js';
import { requiredAbi } from './abi.js';
import { helperArgs, type HelperMode } from './helper-args.js';
import { landlockDegraded, landlockKeepsHostTmp, landlockFenceFilter } from './guarantees.js';
import { fenceFilterHex } from '../seccomp/fence-filter.js';
import { fenceFilterNotes, fenceFilterOptions } from '../seccomp/policy-filter.js';
import { unavailability, type LandlockFacts } from './probe.js';

/**
 * Without namespaces Landlock cannot stop chmod/chown/utime, and a root agent owns
 * every system file: it could make /etc/shadow world-writable or plant a setuid binary.
 * Root without user namespaces is refused unless this is set to `accept-metadata-gap`.
 */
export const ROOT_WITHOUT_USERNS_ENV = 'CELISTRA_LANDLOCK_ROOT_WITHOUT_USERNS';

/**
 * The refusal of root without user namespaces, or undefined. It holds for every policy,
 * so the probe reports it too (index.ts): `doctor` and `auto` then do not name a backend
 * that would refuse every run.
 */
export function rootWithoutUsernsRefusal(f: LandlockFacts, env: Record<string, string | undefined>, uid: number): { reason: string; fix: string } | undefined {
  if (f.userNamespaces || uid !== 0 || env[ROOT_WITHOUT_USERNS_ENV] === 'accept-metadata-gap') return undefined;
  return {
    reason: 'running as root without user namespaces, the agent could chmod/chown any system file (Landlock does not restrict metadata)',
    fix: `enable user namespaces, run as a normal user, or set ${ROOT_WITHOUT_USERNS_ENV}=accept-metadata-gap to accept that gap`,
  };
}

/** The other backends, where usable, are named by the selection (run/backend-alternative.ts). */
const NO_BACKEND_FIX = 'enable unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1; on Ubuntu 24.04 allow them in AppArmor)';

function notesFor(policy: Policy, f: LandlockFacts): string[] {
  const notes = [`Landlock ABI ${f.abi}${f.forcedAbi !== undefined ? ` (forced by test from kernel ABI ${f.kernelAbi})` : ''}, no capabilities, no_new_privs, new session`];
  if (f.userNamespaces) {
    notes.push('user + mount namespace: everything outside the writable roots remounted read-only');
    notes.push('pid namespace: processes the agent leaves behind end with it');
    notes.push('IPC namespace: no SysV shared memory, semaphores or queues of the host or other agents');
    notes.push(NESTED_SANDBOXES_REFUSED);
    if (policy.readOnlyPaths.length) notes.push(`${policy.readOnlyPaths.length} read-only carve-out(s) bind-mounted read-only`);
    if (policy.denyRead.length) notes.push(`${policy.denyRead.length} read-denied path(s) masked`);
    notes.push(landlockKeepsHostTmp(policy) ? "private-tmp NOT held: /tmp is the host's (a writable root is /tmp or holds it)" : 'private empty /tmp');
  } else {
    notes.push('no user namespaces: read denies by Landlock sibling grants; chmod/chown/utime/xattrs outside not restricted');
    notes.push('helper as subreaper: processes the agent leaves behind are killed when it exits');
  }
  if (policy.network === 'off') notes.push(f.userNamespaces ? 'network off via a new network namespace' : 'network off for TCP only (Landlock TCP rules); UDP stays open');
  if (f.abi >= 6) notes.push('signals and abstract unix sockets scoped to the sandbox');
  notes.push(...fenceFilterNotes(policy, landlockFenceFilter(f)));
  return notes;
}

/**
 * Turn a policy into a celistra-exec launch for the machine `f` describes, or refuse
 * with E_NO_BACKEND naming what is missing. Pure: the probe's answer and the caller's
 * uid come in as data.
 */
export function planLandlock(policy: Policy, argv: string[], baseEnv: Record<string, string>, f: LandlockFacts, uid = process.getuid?.() ?? -1): LaunchPlan {
  const missing = unavailability(f);
  if (missing) throw new CelistraError('E_NO_BACKEND', `landlock: ${missing.reason}`, missing.fix);
  if (argv.length === 0) throw new CelistraError('E_USAGE', 'no command given');
  if (!f.userNamespaces && policy.readOnlyPaths.length > 0) {
    throw new CelistraError(
      'E_NO_BACKEND',
      `landlock: the policy keeps ${policy.readOnlyPaths.join(', ')} read-only inside a writable root, which needs a mount namespace; user namespaces are unavailable here (${f.userNamespacesProblem ?? 'unknown reason'})`,
      NO_BACKEND_FIX,
    );
  }
  const needed = requiredAbi(policy.network, f.userNamespaces);
  if (f.abi < needed) {
    throw new CelistraError(
      'E_NO_BACKEND',
      `landlock: --net off without user namespaces needs Landlock ABI ${needed} (TCP rules, Linux 6.7); this machine offers ABI ${f.abi}`,
      NO_BACKEND_FIX,
    );
  }
  const rootGap = rootWithoutUsernsRefusal(f, baseEnv, uid);
  if (rootGap) throw new CelistraError('E_NO_BACKEND', `landlock: ${rootGap.reason}`, rootGap.fix);
  const mode: HelperMode = { namespaces: f.userNamespaces };
  if (f.forcedAbi !== undefined) mode.abiCap = f.abi;
  if (landlockFenceFilter(f)) mode.seccompFilterHex = fenceFilterHex(fenceFilterOptions(policy));
  const plan: LaunchPlan = {
    backend: 'landlock',
    file: f.helperPath,
    args: helperArgs(policy, argv, mode),
    env: { ...baseEnv, ...policy.env },
    cwd: policy.workspace,
    notes: notesFor(policy, f),
  };
  const degraded = landlockDegraded(policy, f);
  if (degraded) plan.degraded = degraded;
  return plan;
}
