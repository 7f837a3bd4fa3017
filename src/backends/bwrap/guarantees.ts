import type { Guarantee, Guarantees, LaunchPlan } from '../backend.js';
import { unixSocketsAllowed, type Policy } from '../../policy/policy.js';
import { wantsPrivateTmp } from './mount-plan.js';
import { sharedTmpReason } from '../host-tmp-gap.js';
import { fenceFilterSupported, fenceFilterUnsupportedReason } from '../seccomp/fence-filter.js';
import { UNIX_SOCKETS_ALLOWED_REASON } from '../unix-sockets-allowed.js';

/**
 * What bwrap enforces, as this backend configures it. The same table feeds `doctor`,
 * the conformance expectations and docs/bwrap.md.
 */
export function bwrapGuarantees(asRoot: boolean, ownInit: boolean): Guarantees {
  // bwrap --seccomp loads the fence filter (src/backends/seccomp/).
  const filtered = fenceFilterSupported();
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
          reason: `abstract unix sockets belong to the network namespace: isolated only with --net off; with network on the host's abstract sockets are reachable (${fenceFilterUnsupportedReason()})`,
        },
    'pathname-unix': filtered
      ? { status: 'enforced' }
      : {
          status: 'gap',
          reason: `connecting needs only write permission on the socket file, which a read-only mount does not remove, and ${fenceFilterUnsupportedReason()}; Celistra's own runtime dir (daemon socket) is masked`,
        },
    network: filtered
      ? { status: 'enforced' }
      : { status: 'gap', reason: `--net off takes the network namespace away, but vsock sockets (to the hypervisor) belong to none, and ${fenceFilterUnsupportedReason()}` },
    tiocsti: { status: 'enforced' },
    'private-tmp': { status: 'enforced' },
    'kernel-keyrings': filtered
      ? { status: 'enforced' }
      : { status: 'gap', reason: `the session keyring (and, as root, root's user keyring) is shared with the caller, and ${fenceFilterUnsupportedReason()}` },
    // Unprivileged: the knobs belong to the host's root. As root: /proc is remounted
    // read-only, /sys is read-only with the rest of the host.
    'host-knobs': { status: 'enforced' },
    'sandbox-init': sandboxInit(asRoot, filtered, ownInit),
    // `celistra run` never hands the command a file it redirected stdio from or to: the
    // command gets a pipe and Celistra, outside the fence, relays (run/stdio-relay.ts),
    // so fchmod, futimens, ftruncate and a reopen through /proc/self/fd/N reach the pipe.
    // Daemon-supervised agents have Celistra's PTY as their stdio.
    'inherited-stdio': { status: 'enforced' },
  };
}

/**
 * The run waits on the sandbox's pid 1. The seccomp filter refuses ptrace,
 * process_vm_writev and pidfd_open of pid 1; as root /proc is read-only, so /proc/1/mem
 * cannot be opened for writing either. Unprivileged, /proc stays writable (a nested
 * sandbox writes its uid map there; masking /proc/1/mem would make the kernel refuse a
 * nested sandbox its own /proc), so pid 1 is Celistra's own init, not dumpable
 * (sandbox-init.ts), where the helper is built; bwrap's own is dumpable and of the
 * command's uid.
 */
function sandboxInit(asRoot: boolean, filtered: boolean, ownInit: boolean): Guarantee {
  if (!filtered) return { status: 'gap', reason: `the command can ptrace bwrap's init (pid 1), leaving it stopped and the run waiting, and ${fenceFilterUnsupportedReason()}` };
  if (asRoot || ownInit) return { status: 'enforced' };
  return {
    status: 'gap',
    reason: "unprivileged, the command can write bwrap's init's memory through /proc/1/mem (same uid, dumpable; /proc stays writable for nested sandboxes) and make it spin, so the run waits until it is signalled; ptrace of pid 1 is refused. Celistra's own init (celistra-exec --sandbox-init, not dumpable) would hold it: build the native helper (npx node-gyp rebuild --directory native)",
  };
}

/** What this policy's plan does not hold of the table above (see LaunchPlan.degraded). */
export function bwrapDegraded(policy: Policy): LaunchPlan['degraded'] {
  const degraded: NonNullable<LaunchPlan['degraded']> = {};
  if (!wantsPrivateTmp(policy)) degraded['private-tmp'] = sharedTmpReason(policy);
  if (unixSocketsAllowed(policy) && fenceFilterSupported()) {
    degraded['pathname-unix'] = UNIX_SOCKETS_ALLOWED_REASON;
    // With --net off the network namespace still isolates abstract sockets.
    if (policy.network === 'on') degraded['abstract-unix'] = UNIX_SOCKETS_ALLOWED_REASON;
  }
  return Object.keys(degraded).length ? degraded : undefined;
}
