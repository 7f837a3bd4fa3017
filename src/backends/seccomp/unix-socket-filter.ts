import { assemble, SECCOMP_DATA, SECCOMP_RET_ALLOW, SECCOMP_RET_ERRNO, SECCOMP_RET_KILL_PROCESS, type Instruction } from './bpf-program.js';

/**
 * The seccomp filter that closes what neither Landlock (below ABI 9) nor a read-only
 * mount can: connect() to a pathname unix socket needs only write permission on the
 * socket file, so an agent could reach Docker's socket, an ssh-agent, the D-Bus session
 * bus or any local daemon it can see. A filter cannot read the path connect() is given
 * (it is a pointer), so it refuses what every such connection needs first: creating a
 * unix socket. socket(AF_UNIX, ...) fails with EPERM. socketpair() stays allowed for
 * stream and seqpacket pairs: they are born connected to each other, connect() on them
 * fails, and runtimes use them for their children's stdio. A datagram pair is refused: a
 * datagram socket can be reconnected, or sendto() any socket path. Abstract sockets need
 * one of these too, so they are closed along with the rest.
 *
 * io_uring can create sockets without the socket() syscall (IORING_OP_SOCKET, which no
 * seccomp filter sees), so io_uring_setup is refused too; runtimes fall back to threads.
 * On x86-64 the 32-bit entry points (int 0x80's socketcall, whose arguments sit behind a
 * pointer, and x32's own numbers) are covered; so is 32-bit ARM on arm64.
 */

const EPERM = 1;
const AF_UNIX = 1;
const SOCK_DGRAM = 2;
/** The type argument also carries SOCK_NONBLOCK and SOCK_CLOEXEC; the type is the low bits. */
const SOCK_TYPE_MASK = 0xf;

/** AUDIT_ARCH_* values from <linux/audit.h>. */
const ARCH = {
  x86_64: 0xc000003e,
  i386: 0x40000003,
  aarch64: 0xc00000b7,
  arm: 0x40000028,
} as const;

/**
 * Per architecture: the socket() numbers (checked for AF_UNIX), the socketpair() numbers
 * (checked for SOCK_DGRAM) and the numbers refused outright.
 */
const SYSCALLS: Record<keyof typeof ARCH, { socket: number[]; socketpair: number[]; refused: number[] }> = {
  // 0x40000000 is x32's bit: an x32 process enters through the x86_64 arch.
  x86_64: { socket: [41, 0x40000000 + 41], socketpair: [53, 0x40000000 + 53], refused: [425, 0x40000000 + 425] },
  // 102 socketcall multiplexes every socket call behind a pointer: refused whole.
  i386: { socket: [359], socketpair: [360], refused: [102, 425] },
  aarch64: { socket: [198], socketpair: [199], refused: [425] },
  arm: { socket: [281], socketpair: [288], refused: [102, 425] },
};

/** Node's process.arch values whose kernels this filter covers (every arch such a kernel reports). */
const SUPPORTED_MACHINES = new Set(['x64', 'arm64']);

function program(): Instruction[] {
  const p: Instruction[] = [{ op: 'load', offset: SECCOMP_DATA.arch }];
  const arches = Object.keys(ARCH) as (keyof typeof ARCH)[];
  for (const a of arches) p.push({ op: 'jump-if-equal', value: ARCH[a], then: a });
  // No other architecture can enter a kernel of a supported machine: fail closed.
  p.push({ op: 'return', value: SECCOMP_RET_KILL_PROCESS });
  for (const a of arches) {
    p.push({ op: 'label', name: a }, { op: 'load', offset: SECCOMP_DATA.nr });
    for (const nr of SYSCALLS[a].socket) p.push({ op: 'jump-if-equal', value: nr, then: 'socket' });
    for (const nr of SYSCALLS[a].socketpair) p.push({ op: 'jump-if-equal', value: nr, then: 'socketpair' });
    for (const nr of SYSCALLS[a].refused) p.push({ op: 'jump-if-equal', value: nr, then: 'refuse' });
    p.push({ op: 'return', value: SECCOMP_RET_ALLOW });
  }
  p.push(
    { op: 'label', name: 'socket' },
    // The domain is an int: the kernel reads only the low 32 bits of the register.
    { op: 'load', offset: SECCOMP_DATA.argLow(0) },
    { op: 'jump-if-equal', value: AF_UNIX, then: 'refuse' },
    { op: 'return', value: SECCOMP_RET_ALLOW },
    { op: 'label', name: 'socketpair' },
    { op: 'load', offset: SECCOMP_DATA.argLow(1) },
    { op: 'and', mask: SOCK_TYPE_MASK },
    { op: 'jump-if-equal', value: SOCK_DGRAM, then: 'refuse' },
    { op: 'return', value: SECCOMP_RET_ALLOW },
    { op: 'label', name: 'refuse' },
    { op: 'return', value: SECCOMP_RET_ERRNO | EPERM },
  );
  return p;
}

/** True when this machine's architecture is one the filter covers. */
export function unixSocketFilterSupported(machine: string = process.arch): boolean {
  return SUPPORTED_MACHINES.has(machine);
}

/**
 * The program as assembled by scripts/bundle.js, in the `celistra run` bundle: every run
 * needs it, and assembling it again costs ~0.6 ms of start-up. Undefined elsewhere.
 */
declare const __CELISTRA_UNIX_SOCKET_FILTER_HEX__: string | undefined;

/** The filter as seccomp(2) loads it, or undefined on a machine it does not cover. */
export function unixSocketFilter(machine: string = process.arch): Buffer | undefined {
  const hex = unixSocketFilterHex(machine);
  return hex === undefined ? undefined : Buffer.from(hex, 'hex');
}

/** The same filter in hex (celistra-exec's --seccomp-filter), or undefined where it does not cover. */
export function unixSocketFilterHex(machine: string = process.arch): string | undefined {
  if (!unixSocketFilterSupported(machine)) return undefined;
  if (typeof __CELISTRA_UNIX_SOCKET_FILTER_HEX__ === 'string') return __CELISTRA_UNIX_SOCKET_FILTER_HEX__;
  return assembleUnixSocketFilter().toString('hex');
}

/** Assembled afresh, whatever the machine (the bundle script embeds this). */
export function assembleUnixSocketFilter(): Buffer {
  return assemble(program());
}

/** Why the filter is missing on this machine, for the guarantees table. */
export function unixSocketFilterUnsupportedReason(machine: string = process.arch): string {
  return `the seccomp filter that refuses unix sockets covers x86-64 and arm64 only; this machine is ${machine}`;
}
