import type { Guarantee, Guarantees, LaunchPlan } from '../backend.js';
import { unixSocketsAllowed, type Policy } from '../../policy/policy.js';
import type { LandlockFacts } from './probe.js';
import { rootsHoldingTmp, sharedTmpReason } from '../host-tmp-gap.js';
import { fenceFilterSupported, fenceFilterUnsupportedReason } from '../seccomp/fence-filter.js';
import { UNIX_SOCKETS_ALLOWED_REASON } from '../unix-sockets-allowed.js';

const enforced: Guarantee = { status: 'enforced' };
const gap = (reason: string): Guarantee => ({ status: 'gap', reason });

/**
 * What the Landlock backend holds on this machine. One declaration, read by doctor,
 * conformance and the docs; it follows the probe (ABI, user namespaces), not hopes.
 */
export function landlockGuarantees(f: LandlockFacts): Guarantees {
  const ns = f.userNamespaces;
  const scoping = f.abi >= 6;
  const socketFilter = landlockFenceFilter(f);
  let network: Guarantee;
  if (ns) network = socketFilter ? enforced : gap(`the network namespace takes the network away, but vsock sockets (to the hypervisor) belong to none, and ${socketFilterMissing(f)}`);
  else if (f.abi >= 4) network = gap('without user namespaces only TCP is cut (Landlock ABI 4 TCP rules): UDP, ICMP and raw sockets stay open');
  else network = gap('needs user namespaces (network namespace) or Landlock ABI 4 (TCP rules): --net off is refused here');
  return {
    'content-writes': enforced,
    'metadata-writes': ns
      ? enforced
      : gap('Landlock cannot restrict chmod, chown, utime or xattrs; the read-only remount that stops them needs user namespaces'),
    'read-deny': enforced,
    signals: scoping
      ? enforced
      : gap(
          `signal scoping needs Landlock ABI 6 (Linux 6.12); this machine offers ABI ${f.abi}` +
            (ns ? '' : ": the agent can also SIGKILL celistra-exec itself, and then what it left running outlives it (with user namespaces a pid namespace ends it instead)"),
        ),
    // Landlock (every ABI) forbids ptrace of any process outside the sandbox's domain.
    ptrace: enforced,
    // Either closes them: scoping by Landlock, or the seccomp filter refusing unix sockets.
    'abstract-unix':
      scoping || socketFilter
        ? enforced
        : gap(`abstract unix socket scoping needs Landlock ABI 6 (Linux 6.12); this machine offers ABI ${f.abi}, and ${socketFilterMissing(f)}${ns ? ' (with --net off the network namespace isolates them)' : ''}`),
    'pathname-unix': socketFilter
      ? enforced
      : gap(
          `Landlock (below ABI 9) cannot restrict connect() to pathname unix sockets, and ${socketFilterMissing(f)}; Celistra's own socket is not reachable because its runtime dir is read-denied` +
            (ns ? ' and masked' : ''),
        ),
    network,
    // The PTY is Celistra's own, and the helper calls setsid() so a piped run has no
    // controlling terminal at all.
    tiocsti: enforced,
    'private-tmp': ns
      ? enforced
      : gap('without user namespaces /tmp and /dev/shm are the host\'s (read-only to the agent): what other processes leave there stays readable; TMPDIR is private'),
    'kernel-keyrings': socketFilter
      ? enforced
      : gap(`the session keyring is inherited into every namespace, and ${socketFilterMissing(f)}`),
    // /proc and /sys are read-only mounts (with namespaces), and Landlock grants no write
    // outside the writable roots in either mode; root without namespaces is refused.
    'host-knobs': enforced,
    // With namespaces the init is not dumpable and holds no capability, so the command (same
    // uid, no capability) can neither ptrace it nor open /proc/1/mem; the seccomp filter also
    // refuses ptrace of pid 1. Without, the waiting process is the outer helper, outside
    // the command's Landlock domain, which forbids ptrace of it.
    'sandbox-init': enforced,
    // `celistra run` never hands the command a file it redirected stdio from or to: the
    // command gets a pipe and Celistra, outside the fence, relays (run/stdio-relay.ts),
    // so fchmod, futimens, ftruncate and a reopen through /proc/self/fd/N reach the pipe.
    // Daemon-supervised agents have Celistra's PTY as their stdio.
    'inherited-stdio': { status: 'enforced' },
  };
}

/**
 * True when the helper keeps the host's /tmp (read-only) instead of a private one: it
 * mirrors wants_private_tmp() in native/src/mount-fence.c, which decides at run time.
 */
export function landlockKeepsHostTmp(policy: Policy): boolean {
  return rootsHoldingTmp(policy).length > 0;
}

/** True when the helper can install the fence filter (src/backends/seccomp/) here. */
export function landlockFenceFilter(f: LandlockFacts): boolean {
  return f.seccomp && fenceFilterSupported();
}

function socketFilterMissing(f: LandlockFacts): string {
  return f.seccomp ? fenceFilterUnsupportedReason() : 'this kernel has no seccomp filtering';
}

/** What this policy's plan does not hold of the machine's declaration (see LaunchPlan.degraded). */
export function landlockDegraded(policy: Policy, f: LandlockFacts): LaunchPlan['degraded'] {
  const degraded: NonNullable<LaunchPlan['degraded']> = {};
  // Without namespaces private-tmp is already declared a gap for the whole machine.
  if (f.userNamespaces && landlockKeepsHostTmp(policy)) degraded['private-tmp'] = sharedTmpReason(policy);
  if (unixSocketsAllowed(policy) && landlockFenceFilter(f)) {
    degraded['pathname-unix'] = UNIX_SOCKETS_ALLOWED_REASON;
    if (f.abi < 6) degraded['abstract-unix'] = UNIX_SOCKETS_ALLOWED_REASON;
  }
  return Object.keys(degraded).length ? degraded : undefined;
}
