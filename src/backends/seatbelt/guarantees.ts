import type { Guarantees, LaunchPlan } from '../backend.js';
import { unixSocketsAllowed, type Policy } from '../../policy/policy.js';
import { UNIX_SOCKETS_ALLOWED_REASON } from '../unix-sockets-allowed.js';

/** What the generated Seatbelt profile enforces (verified for real only in the macOS CI job). */
export function seatbeltGuarantees(): Guarantees {
  return {
    'content-writes': { status: 'enforced' },
    // file-write* covers file-write-mode, -times, -xattr, -owner and -flags.
    'metadata-writes': { status: 'enforced' },
    'read-deny': { status: 'enforced' },
    signals: { status: 'enforced' },
    ptrace: { status: 'enforced' },
    // macOS has no abstract unix socket namespace: there is nothing outside to reach.
    'abstract-unix': { status: 'enforced' },
    // Only sockets inside the writable roots (and, with network on, mDNSResponder's) can be
    // connected to, unless the run allows unix sockets (seatbeltDegraded).
    'pathname-unix': { status: 'enforced' },
    network: { status: 'enforced' },
    tiocsti: {
      status: 'gap',
      reason: 'sandbox-exec starts no new session: when Celistra is not attached to a terminal it owns (piped mode), the command keeps the caller\'s controlling terminal; interactive runs use Celistra\'s own PTY',
    },
    // The profile forbids writes outside the writable roots and TMPDIR, but allows reads
    // everywhere except the denied paths: /tmp (/private/tmp) stays the host's, shared.
    // macOS has no kernel keyrings; its counterpart, the login Keychain, is served by
    // securityd, whose mach service the profile allows (certificate checks need it).
    'kernel-keyrings': { status: 'gap', reason: 'macOS has no kernel keyrings, but the profile allows the mach service com.apple.SecurityServer (certificate checks need it), through which the login Keychain can be asked for items' },
    // The profile denies by default and allows sysctl-read only: no sysctl writes, even as root.
    'host-knobs': { status: 'enforced' },
    // sandbox-exec execs the command: no init of the sandbox's own sits between it and Celistra.
    'sandbox-init': { status: 'enforced' },
    'inherited-stdio': { status: 'gap', reason: 'not yet checked on macOS: whether the profile stops fchmod, futimes, fsetxattr and ftruncate on a descriptor opened outside the sandbox' },
    'private-tmp': {
      status: 'gap',
      reason: "/tmp (/private/tmp) is the host's, read-only to the agent but readable: what other agents and processes leave there is visible, and unix sockets there are reachable with network on; TMPDIR is private",
    },
  };
}

/** What this policy's plan does not hold of the table above (see LaunchPlan.degraded). */
export function seatbeltDegraded(policy: Policy): LaunchPlan['degraded'] {
  // With --net off the profile keeps only sockets in the writable roots, flag or not.
  return unixSocketsAllowed(policy) && policy.network === 'on' ? { 'pathname-unix': UNIX_SOCKETS_ALLOWED_REASON } : undefined;
}
