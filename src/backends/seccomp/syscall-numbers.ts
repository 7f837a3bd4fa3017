/**
 * The system calls the fence filter looks at, numbered per architecture (a number means
 * a different call on each: 41 is socket on x86-64 and pivot_root on arm64). Every
 * architecture a supported machine's kernel accepts is listed, because a process can
 * enter through any of them (x86-64 kernels take i386 and x32 calls, arm64 kernels
 * 32-bit ARM ones).
 */

/** AUDIT_ARCH_* values from <linux/audit.h>. */
export const ARCH = {
  x86_64: 0xc000003e,
  i386: 0x40000003,
  aarch64: 0xc00000b7,
  arm: 0x40000028,
} as const;
export type Arch = keyof typeof ARCH;

/** x32 processes enter through the x86_64 arch with this bit set in the number. */
const X32 = 0x40000000;

export interface SyscallNumbers {
  socket: number[];
  socketpair: number[];
  /** socketcall multiplexes every socket call with its arguments behind a pointer. */
  socketcall: number[];
  ioUringSetup: number[];
  /** add_key, request_key, keyctl. */
  keyring: number[];
  /** Calls whose first argument is a pid: process_vm_readv, process_vm_writev, pidfd_open. */
  pidFirst: number[];
  /** ptrace, whose second argument is the pid. */
  ptrace: number[];
}

export const SYSCALLS: Record<Arch, SyscallNumbers> = {
  x86_64: {
    socket: [41, X32 + 41],
    socketpair: [53, X32 + 53],
    socketcall: [],
    ioUringSetup: [425, X32 + 425],
    keyring: [248, 249, 250, X32 + 248, X32 + 249, X32 + 250],
    // x32 has its own numbers for the calls whose structures differ (521, 539, 540).
    pidFirst: [310, 311, 434, X32 + 539, X32 + 540, X32 + 434],
    ptrace: [101, X32 + 521],
  },
  i386: {
    socket: [359],
    socketpair: [360],
    socketcall: [102],
    ioUringSetup: [425],
    keyring: [286, 287, 288],
    pidFirst: [347, 348, 434],
    ptrace: [26],
  },
  aarch64: {
    socket: [198],
    socketpair: [199],
    socketcall: [],
    ioUringSetup: [425],
    keyring: [217, 218, 219],
    pidFirst: [270, 271, 434],
    ptrace: [117],
  },
  arm: {
    socket: [281],
    socketpair: [288],
    socketcall: [102],
    ioUringSetup: [425],
    keyring: [309, 310, 311],
    pidFirst: [376, 377, 434],
    ptrace: [26],
  },
};

/** Address families (<linux/socket.h>), the same number on every architecture. */
export const AF = {
  UNIX: 1,
  INET: 2,
  INET6: 10,
  NETLINK: 16,
  PACKET: 17,
  VSOCK: 40,
} as const;
