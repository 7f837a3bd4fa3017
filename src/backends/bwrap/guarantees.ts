import type { LaunchPlan, Guarantees } from '../../core/backend.js';
import { unixSocketsAllowed, type Policy } from '../../core/policy.js';
import { wantsPrivateTmp } from './mount-plan.js';
import { sharedTmpReason } from '../host-tmp-gap.js';
import { unixSocketFilterSupported, unixSocketFilterUnsupportedReason } from '../seccomp/unix-socket-filter.js';
import { UNIX_SOCKETS_ALLOWED_REASON } from '../unix-sockets-allowed.js';

/**
 * What bwrap enforces, as this backend configures it. The same table feeds `doctor`,
 * the conformance expectations and docs/bwrap.md.
 */
export function bwrapGuarantees(): Guarantees {
  // bwrap --seccomp loads the filter that refuses unix sockets (src/backends/seccomp/).
  const filtered = unixSocketFilterSupported();
  return {
    'content-writes': { status: 'enforced' },
    'metadata-writes': { status: 'enforced' },
    'read-deny': { status: 'enforced' },
    signals: { status: 'enforced' },
    ptrace: { status: 'enforced' },
    'abstract-unix': filtered
      ? { status: 'enforced' }
      : {
          status: 'gap',
          reason: `abstract unix sockets belong to the network namespace: isolated only with --net off; with network on the host's abstract sockets are reachable (${unixSocketFilterUnsupportedReason()})`,
        },
    'pathname-unix': filtered
      ? { status: 'enforced' }
      : {
          status: 'gap',
          reason: `connecting needs only write permission on the socket file, which a read-only mount does not remove, and ${unixSocketFilterUnsupportedReason()}; Celistra's own runtime dir (daemon socket) is masked`,
        },
    network: { status: 'enforced' },
    tiocsti: { status: 'enforced' },
    'private-tmp': { status: 'enforced' },
  };
}

/** What this policy's plan does not hold of the table above (see LaunchPlan.degraded). */
export function bwrapDegraded(policy: Policy): LaunchPlan['degraded'] {
  const degraded: NonNullable<LaunchPlan['degraded']> = {};
  if (!wantsPrivateTmp(policy)) degraded['private-tmp'] = sharedTmpReason(policy);
  if (unixSocketsAllowed(policy) && unixSocketFilterSupported()) {
    degraded['pathname-unix'] = UNIX_SOCKETS_ALLOWED_REASON;
    // With --net off the network namespace still isolates abstract sockets.
    if (policy.network === 'on') degraded['abstract-unix'] = UNIX_SOCKETS_ALLOWED_REASON;
  }
  return Object.keys(degraded).length ? degraded : undefined;
}
