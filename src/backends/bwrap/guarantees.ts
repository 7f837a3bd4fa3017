import type { LaunchPlan, Guarantees } from '../../core/backend.js';
import type { Policy } from '../../core/policy.js';
import { wantsPrivateTmp } from './mount-plan.js';
import { sharedTmpReason } from '../host-tmp-gap.js';

/**
 * What bwrap enforces, as this backend configures it. The same table feeds `doctor`,
 * the conformance expectations and docs/bwrap.md.
 */
export function bwrapGuarantees(): Guarantees {
  return {
    'content-writes': { status: 'enforced' },
    'metadata-writes': { status: 'enforced' },
    'read-deny': { status: 'enforced' },
    signals: { status: 'enforced' },
    ptrace: { status: 'enforced' },
    'abstract-unix': {
      status: 'gap',
      reason: 'abstract unix sockets belong to the network namespace: isolated only with --net off; with network on the host\'s abstract sockets are reachable',
    },
    'pathname-unix': {
      status: 'gap',
      reason: "connecting needs only write permission on the socket file, which a read-only mount does not remove: sockets outside the fence stay reachable where visible and permitted (e.g. /run/dbus, an ssh-agent socket); Celistra's own runtime dir (daemon socket) is masked",
    },
    network: { status: 'enforced' },
    tiocsti: { status: 'enforced' },
    'private-tmp': { status: 'enforced' },
  };
}

/** What this policy's plan does not hold of the table above (see LaunchPlan.degraded). */
export function bwrapDegraded(policy: Policy): LaunchPlan['degraded'] {
  return wantsPrivateTmp(policy) ? undefined : { 'private-tmp': sharedTmpReason(policy) };
}
