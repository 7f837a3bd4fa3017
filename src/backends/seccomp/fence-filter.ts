import { assemble, SECCOMP_DATA, SECCOMP_RET_ALLOW, SECCOMP_RET_ERRNO, SECCOMP_RET_KILL_PROCESS, type Instruction } from './bpf-program.js';
import { AF, ARCH, SYSCALLS, type Arch } from './syscall-numbers.js';

/**
 * The seccomp filter both Linux backends install last, just before the command runs
 * (celistra-exec's --seccomp-filter, bwrap's --seccomp). It closes what neither
 * Landlock, a read-only mount nor the namespaces close; docs/security.md has a section
 * per rule.
 *
 * - Kernel keyrings (always): add_key, request_key and keyctl fail with ENOSYS. The
 *   session keyring is inherited into every namespace, and a root command without a
 *   user namespace (bwrap as root) reaches root's own user keyring: Kerberos tickets,
 *   ecryptfs and login tokens live there. ENOSYS is what a kernel built without keyrings
 *   answers, so software takes the fallback it already has for such kernels (krb5 to its
 *   file cache) where EPERM tends to be reported as a hard error.
 * - The sandbox's pid 1 (always): ptrace, process_vm_readv/writev and pidfd_open of pid 1
 *   fail with EPERM. Under bwrap pid 1 is bwrap's own init, dumpable and of the same uid:
 *   a command that ptrace-attached it and exited left it stopped, and the run never
 *   returned. Signals cannot stop a namespace's init from inside; these calls could.
 * - Socket families (always AF_VSOCK; with the network off, all but four): socket() of a
 *   family that is not per network namespace would leave the sandbox whatever
 *   --unshare-net says; vsock reaches the hypervisor's services. They fail with
 *   EAFNOSUPPORT, what a kernel without the family answers. With the network off only
 *   AF_UNIX (see below), AF_INET, AF_INET6 and AF_NETLINK, all bound to the sandbox's
 *   own network namespace, can be created.
 * - Unix sockets (unless the run allows them): connect() to a pathname socket needs only
 *   write permission on the socket file, which neither a read-only mount nor Landlock
 *   below ABI 9 takes away; a filter cannot read connect()'s path, so socket(AF_UNIX)
 *   fails with EPERM. socketpair() stays allowed for stream and seqpacket pairs (born
 *   connected to each other; runtimes use them for their children's stdio); a datagram
 *   pair, which could sendto() any socket path, is refused.
 * - io_uring_setup and socketcall (always): io_uring creates sockets without the socket()
 *   call (IORING_OP_SOCKET), and socketcall hides its family behind a pointer, so
 *   neither family rule could be kept with them; runtimes fall back to threads and to
 *   the direct calls.
 */

export interface FenceFilterOptions {
  /** 'allow' with --allow-unix-sockets. */
  unixSockets: 'refuse' | 'allow';
  network: 'on' | 'off';
}

const EPERM = 1;
const ENOSYS = 38;
const EAFNOSUPPORT = 97;
const SOCK_DGRAM = 2;
/** The type argument also carries SOCK_NONBLOCK and SOCK_CLOEXEC; the type is the low bits. */
const SOCK_TYPE_MASK = 0xf;
const SANDBOX_INIT_PID = 1;

/** Families that stay inside the sandbox's network namespace: all a run with the network off may create. */
export const NET_OFF_FAMILIES = [AF.UNIX, AF.INET, AF.INET6, AF.NETLINK] as const;

/** Node's process.arch values whose kernels this filter covers (every arch such a kernel reports). */
const SUPPORTED_MACHINES = new Set(['x64', 'arm64']);

function program(o: FenceFilterOptions): Instruction[] {
  const refuseUnix = o.unixSockets === 'refuse';
  const p: Instruction[] = [{ op: 'load', offset: SECCOMP_DATA.arch }];
  const arches = Object.keys(ARCH) as Arch[];
  for (const a of arches) p.push({ op: 'jump-if-equal', value: ARCH[a], then: a });
  // No other architecture can enter a kernel of a supported machine: fail closed.
  p.push({ op: 'return', value: SECCOMP_RET_KILL_PROCESS });
  for (const a of arches) {
    const n = SYSCALLS[a];
    const to = (nrs: number[], then: string) => nrs.forEach((nr) => p.push({ op: 'jump-if-equal', value: nr, then }));
    p.push({ op: 'label', name: a }, { op: 'load', offset: SECCOMP_DATA.nr });
    to(n.socket, 'socket');
    if (refuseUnix) to(n.socketpair, 'socketpair');
    to([...n.socketcall, ...n.ioUringSetup], 'refuse');
    to(n.keyring, 'no-keyrings');
    to(n.pidFirst, 'pid-in-arg0');
    to(n.ptrace, 'pid-in-arg1');
    p.push({ op: 'return', value: SECCOMP_RET_ALLOW });
  }
  // The domain is an int: the kernel reads only the low 32 bits of the register.
  p.push({ op: 'label', name: 'socket' }, { op: 'load', offset: SECCOMP_DATA.argLow(0) });
  if (refuseUnix) p.push({ op: 'jump-if-equal', value: AF.UNIX, then: 'refuse' });
  if (o.network === 'off') {
    for (const family of NET_OFF_FAMILIES) p.push({ op: 'jump-if-equal', value: family, then: 'allow' });
    p.push({ op: 'return', value: SECCOMP_RET_ERRNO | EAFNOSUPPORT });
  } else {
    p.push({ op: 'jump-if-equal', value: AF.VSOCK, then: 'no-family' }, { op: 'return', value: SECCOMP_RET_ALLOW });
  }
  if (refuseUnix) {
    p.push(
      { op: 'label', name: 'socketpair' },
      { op: 'load', offset: SECCOMP_DATA.argLow(1) },
      { op: 'and', mask: SOCK_TYPE_MASK },
      { op: 'jump-if-equal', value: SOCK_DGRAM, then: 'refuse' },
      { op: 'return', value: SECCOMP_RET_ALLOW },
    );
  }
  // pid_t is an int too: a pid of 1 with garbage above bit 31 is still pid 1.
  p.push(
    { op: 'label', name: 'pid-in-arg0' },
    { op: 'load', offset: SECCOMP_DATA.argLow(0) },
    { op: 'jump-if-equal', value: SANDBOX_INIT_PID, then: 'refuse' },
    { op: 'return', value: SECCOMP_RET_ALLOW },
    { op: 'label', name: 'pid-in-arg1' },
    { op: 'load', offset: SECCOMP_DATA.argLow(1) },
    { op: 'jump-if-equal', value: SANDBOX_INIT_PID, then: 'refuse' },
    { op: 'label', name: 'allow' },
    { op: 'return', value: SECCOMP_RET_ALLOW },
    { op: 'label', name: 'no-keyrings' },
    { op: 'return', value: SECCOMP_RET_ERRNO | ENOSYS },
  );
  if (o.network === 'on') p.push({ op: 'label', name: 'no-family' }, { op: 'return', value: SECCOMP_RET_ERRNO | EAFNOSUPPORT });
  p.push({ op: 'label', name: 'refuse' }, { op: 'return', value: SECCOMP_RET_ERRNO | EPERM });
  return p;
}

/** The key of one variant, as the bundle embeds them. */
export function fenceFilterKey(o: FenceFilterOptions): string {
  return `unix-${o.unixSockets}/net-${o.network}`;
}

/** Every variant a plan can ask for. */
export const FENCE_FILTER_VARIANTS: FenceFilterOptions[] = (['refuse', 'allow'] as const).flatMap((unixSockets) =>
  (['on', 'off'] as const).map((network) => ({ unixSockets, network })),
);

/** True when this machine's architecture is one the filter covers. */
export function fenceFilterSupported(machine: string = process.arch): boolean {
  return SUPPORTED_MACHINES.has(machine);
}

/**
 * The variants as assembled by scripts/bundle.js, in the `celistra run` bundle: every run
 * needs one, and assembling it again costs ~0.6 ms of start-up. Undefined elsewhere.
 */
declare const __CELISTRA_FENCE_FILTERS_HEX__: Record<string, string> | undefined;

/** The filter as seccomp(2) loads it, or undefined on a machine it does not cover. */
export function fenceFilter(o: FenceFilterOptions, machine: string = process.arch): Buffer | undefined {
  const hex = fenceFilterHex(o, machine);
  return hex === undefined ? undefined : Buffer.from(hex, 'hex');
}

/** The same filter in hex (celistra-exec's --seccomp-filter), or undefined where it does not cover. */
export function fenceFilterHex(o: FenceFilterOptions, machine: string = process.arch): string | undefined {
  if (!fenceFilterSupported(machine)) return undefined;
  const embedded = typeof __CELISTRA_FENCE_FILTERS_HEX__ === 'object' ? __CELISTRA_FENCE_FILTERS_HEX__?.[fenceFilterKey(o)] : undefined;
  return embedded ?? assembleFenceFilter(o).toString('hex');
}

/** Assembled afresh, whatever the machine (the bundle script embeds this). */
export function assembleFenceFilter(o: FenceFilterOptions): Buffer {
  return assemble(program(o));
}

/** Why the filter is missing on this machine, for the guarantees table. */
export function fenceFilterUnsupportedReason(machine: string = process.arch): string {
  return `the seccomp filter covers x86-64 and arm64 only; this machine is ${machine}`;
}
