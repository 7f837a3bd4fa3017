import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { assemble, SECCOMP_RET_ALLOW, SECCOMP_RET_ERRNO, SECCOMP_RET_KILL_PROCESS } from '../src/backends/seccomp/bpf-program.js';
import { assembleFenceFilter, FENCE_FILTER_VARIANTS, fenceFilter, fenceFilterKey, fenceFilterSupported } from '../src/backends/seccomp/fence-filter.js';
import { launcherArgs, SECCOMP_FD } from '../src/backends/bwrap/launcher.js';

/**
 * Runs a seccomp program the way the kernel does, over the three instruction kinds the
 * assembler emits, so the filter's decisions are checked as data on any machine. The
 * kernel's own verdict is checked by test/sandbox/unix-sockets.test.ts.
 */
function decide(program: Buffer, call: { arch: number; nr: number; args?: number[] }): number {
  const data = Buffer.alloc(64);
  data.writeUInt32LE(call.nr, 0);
  data.writeUInt32LE(call.arch, 4);
  (call.args ?? []).forEach((a, i) => data.writeBigUInt64LE(BigInt(a), 16 + 8 * i));
  let acc = 0;
  for (let pc = 0; pc * 8 < program.length; pc++) {
    const code = program.readUInt16LE(pc * 8);
    const jt = program.readUInt8(pc * 8 + 2);
    const jf = program.readUInt8(pc * 8 + 3);
    const k = program.readUInt32LE(pc * 8 + 4);
    if (code === 0x20) acc = data.readUInt32LE(k);
    else if (code === 0x54) acc = (acc & k) >>> 0;
    else if (code === 0x15) pc += acc === k ? jt : jf;
    else if (code === 0x06) return k;
    else throw new Error(`unexpected BPF opcode ${code.toString(16)}`);
  }
  throw new Error('the program fell off its end');
}

const X86_64 = 0xc000003e;
const I386 = 0x40000003;
const AARCH64 = 0xc00000b7;
const ARM = 0x40000028;
const X32 = 0x40000000;
const AF_UNIX = 1;
const AF_INET = 2;
const SOCK_STREAM = 1;
const SOCK_DGRAM = 2;
const SOCK_SEQPACKET = 5;
const SOCK_NONBLOCK = 0o4000;
const SOCK_CLOEXEC = 0o2000000;
const AF_INET6 = 10;
const AF_NETLINK = 16;
const AF_PACKET = 17;
const AF_BLUETOOTH = 31;
const AF_VSOCK = 40;
const EPERM = SECCOMP_RET_ERRNO | 1;
const ENOSYS = SECCOMP_RET_ERRNO | 38;
const EAFNOSUPPORT = SECCOMP_RET_ERRNO | 97;
const KEY_SPEC_SESSION_KEYRING = 2 ** 32 - 3;

/** The default run's filter: unix sockets refused, network on. */
const filter = fenceFilter({ unixSockets: 'refuse', network: 'on' }, 'x64')!;
const unixAllowed = fenceFilter({ unixSockets: 'allow', network: 'on' }, 'x64')!;
const netOff = fenceFilter({ unixSockets: 'refuse', network: 'off' }, 'x64')!;
const netOffUnixAllowed = fenceFilter({ unixSockets: 'allow', network: 'off' }, 'x64')!;
const everyVariant = [filter, unixAllowed, netOff, netOffUnixAllowed];
const RUN_BUNDLE = fileURLToPath(new URL('../../dist/run/run-entry.cjs', import.meta.url));

test('socket(AF_UNIX) is refused with EPERM on x86-64, other socket families are allowed', () => {
  assert.equal(decide(filter, { arch: X86_64, nr: 41, args: [AF_UNIX, 1, 0] }), EPERM);
  assert.equal(decide(filter, { arch: X86_64, nr: 41, args: [AF_INET, 1, 0] }), SECCOMP_RET_ALLOW);
  // Only the low 32 bits are the int the kernel reads: garbage above them changes nothing.
  assert.equal(decide(filter, { arch: X86_64, nr: 41, args: [2 ** 32 + AF_UNIX] }), EPERM);
});

test('connect and ordinary calls are allowed', () => {
  for (const nr of [42 /* connect */, 0 /* read */, 59 /* execve */]) {
    assert.equal(decide(filter, { arch: X86_64, nr, args: [AF_UNIX, SOCK_DGRAM] }), SECCOMP_RET_ALLOW, String(nr));
  }
});

test('stream and seqpacket socketpairs are allowed; a datagram pair, whose ends could sendto() any socket path, is refused', () => {
  assert.equal(decide(filter, { arch: X86_64, nr: 53, args: [AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC] }), SECCOMP_RET_ALLOW);
  assert.equal(decide(filter, { arch: X86_64, nr: 53, args: [AF_UNIX, SOCK_SEQPACKET] }), SECCOMP_RET_ALLOW);
  assert.equal(decide(filter, { arch: X86_64, nr: 53, args: [AF_UNIX, SOCK_DGRAM] }), EPERM);
  assert.equal(decide(filter, { arch: X86_64, nr: 53, args: [AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC] }), EPERM);
  assert.equal(decide(filter, { arch: X86_64, nr: X32 + 53, args: [AF_UNIX, SOCK_DGRAM] }), EPERM);
  assert.equal(decide(filter, { arch: AARCH64, nr: 199, args: [AF_UNIX, SOCK_DGRAM] }), EPERM);
  assert.equal(decide(filter, { arch: I386, nr: 360, args: [AF_UNIX, SOCK_DGRAM] }), EPERM);
  assert.equal(decide(filter, { arch: ARM, nr: 288, args: [AF_UNIX, SOCK_DGRAM] }), EPERM);
});

test('io_uring_setup is refused, as io_uring could create sockets unseen', () => {
  assert.equal(decide(filter, { arch: X86_64, nr: 425 }), EPERM);
  assert.equal(decide(filter, { arch: AARCH64, nr: 425 }), EPERM);
});

test('the x32 and 32-bit x86 entry points are covered, socketcall refused whole', () => {
  assert.equal(decide(filter, { arch: X86_64, nr: X32 + 41, args: [AF_UNIX] }), EPERM);
  assert.equal(decide(filter, { arch: X86_64, nr: X32 + 425 }), EPERM);
  assert.equal(decide(filter, { arch: I386, nr: 359, args: [AF_UNIX] }), EPERM);
  assert.equal(decide(filter, { arch: I386, nr: 359, args: [AF_INET] }), SECCOMP_RET_ALLOW);
  assert.equal(decide(filter, { arch: I386, nr: 102, args: [1] }), EPERM);
});

test('arm64 and 32-bit ARM are covered', () => {
  assert.equal(decide(filter, { arch: AARCH64, nr: 198, args: [AF_UNIX] }), EPERM);
  assert.equal(decide(filter, { arch: AARCH64, nr: 198, args: [AF_INET] }), SECCOMP_RET_ALLOW);
  // 41 is not socket on arm64 (it is pivot_root): the numbers are per architecture.
  assert.equal(decide(filter, { arch: AARCH64, nr: 41, args: [AF_UNIX] }), SECCOMP_RET_ALLOW);
  assert.equal(decide(filter, { arch: ARM, nr: 281, args: [AF_UNIX] }), EPERM);
});

test('an architecture the filter does not know is killed, never allowed', () => {
  assert.equal(decide(filter, { arch: 0xc00000f3 /* riscv64 */, nr: 198, args: [AF_UNIX] }), SECCOMP_RET_KILL_PROCESS);
});

test('machines the filter does not cover get none, and say so', () => {
  assert.equal(fenceFilterSupported('riscv64'), false);
  assert.equal(fenceFilter({ unixSockets: 'refuse', network: 'on' }, 'riscv64'), undefined);
  assert.ok(fenceFilterSupported('arm64'));
});

test('keyctl, add_key and request_key fail with ENOSYS in every variant, on every architecture', () => {
  for (const f of everyVariant) {
    for (const nr of [248, 249, 250, X32 + 248, X32 + 249, X32 + 250]) assert.equal(decide(f, { arch: X86_64, nr, args: [KEY_SPEC_SESSION_KEYRING] }), ENOSYS, String(nr));
    for (const nr of [286, 287, 288]) assert.equal(decide(f, { arch: I386, nr }), ENOSYS, String(nr));
    for (const nr of [217, 218, 219]) assert.equal(decide(f, { arch: AARCH64, nr }), ENOSYS, String(nr));
    for (const nr of [309, 310, 311]) assert.equal(decide(f, { arch: ARM, nr }), ENOSYS, String(nr));
  }
});

test('ptrace, process_vm_readv/writev and pidfd_open of pid 1 are refused; of other pids they are allowed', () => {
  for (const f of everyVariant) {
    assert.equal(decide(f, { arch: X86_64, nr: 101, args: [16 /* PTRACE_ATTACH */, 1] }), EPERM);
    assert.equal(decide(f, { arch: X86_64, nr: 101, args: [0x4206 /* PTRACE_SEIZE */, 2 ** 32 + 1] }), EPERM);
    assert.equal(decide(f, { arch: X86_64, nr: 101, args: [16, 2] }), SECCOMP_RET_ALLOW);
    assert.equal(decide(f, { arch: X86_64, nr: 101, args: [0 /* PTRACE_TRACEME */, 0] }), SECCOMP_RET_ALLOW);
    for (const nr of [310, 311, 434]) {
      assert.equal(decide(f, { arch: X86_64, nr, args: [1] }), EPERM, String(nr));
      assert.equal(decide(f, { arch: X86_64, nr, args: [7] }), SECCOMP_RET_ALLOW, String(nr));
    }
    assert.equal(decide(f, { arch: X86_64, nr: X32 + 521, args: [16, 1] }), EPERM);
    assert.equal(decide(f, { arch: X86_64, nr: X32 + 540, args: [1] }), EPERM);
    assert.equal(decide(f, { arch: I386, nr: 26, args: [16, 1] }), EPERM);
    assert.equal(decide(f, { arch: AARCH64, nr: 117, args: [16, 1] }), EPERM);
    assert.equal(decide(f, { arch: AARCH64, nr: 271, args: [1] }), EPERM);
    assert.equal(decide(f, { arch: ARM, nr: 26, args: [16, 1] }), EPERM);
  }
});

test('vsock sockets fail with EAFNOSUPPORT with the network on too; other families are left to the network', () => {
  for (const f of [filter, unixAllowed]) {
    assert.equal(decide(f, { arch: X86_64, nr: 41, args: [AF_VSOCK, 1] }), EAFNOSUPPORT);
    assert.equal(decide(f, { arch: AARCH64, nr: 198, args: [AF_VSOCK, 1] }), EAFNOSUPPORT);
    for (const family of [AF_INET, AF_INET6, AF_NETLINK, AF_PACKET]) assert.equal(decide(f, { arch: X86_64, nr: 41, args: [family, 1] }), SECCOMP_RET_ALLOW, String(family));
  }
});

test('with the network off only inet, inet6, netlink and (when allowed) unix sockets can be created', () => {
  for (const f of [netOff, netOffUnixAllowed]) {
    for (const family of [AF_INET, AF_INET6, AF_NETLINK]) assert.equal(decide(f, { arch: X86_64, nr: 41, args: [family, 1] }), SECCOMP_RET_ALLOW, String(family));
    for (const family of [AF_VSOCK, AF_PACKET, AF_BLUETOOTH, 0, 45, 255]) assert.equal(decide(f, { arch: X86_64, nr: 41, args: [family, 1] }), EAFNOSUPPORT, String(family));
    assert.equal(decide(f, { arch: I386, nr: 359, args: [AF_VSOCK] }), EAFNOSUPPORT);
  }
  assert.equal(decide(netOff, { arch: X86_64, nr: 41, args: [AF_UNIX, 1] }), EPERM);
  assert.equal(decide(netOffUnixAllowed, { arch: X86_64, nr: 41, args: [AF_UNIX, 1] }), SECCOMP_RET_ALLOW);
});

test('with unix sockets allowed, socket(AF_UNIX) and datagram pairs pass, while io_uring and socketcall stay refused', () => {
  assert.equal(decide(unixAllowed, { arch: X86_64, nr: 41, args: [AF_UNIX, SOCK_DGRAM] }), SECCOMP_RET_ALLOW);
  assert.equal(decide(unixAllowed, { arch: X86_64, nr: 53, args: [AF_UNIX, SOCK_DGRAM] }), SECCOMP_RET_ALLOW);
  // io_uring could create a vsock socket unseen; socketcall hides the family.
  assert.equal(decide(unixAllowed, { arch: X86_64, nr: 425 }), EPERM);
  assert.equal(decide(unixAllowed, { arch: I386, nr: 102, args: [1] }), EPERM);
});

test('the assembler refuses unknown labels, duplicate labels and backward jumps', () => {
  assert.throws(() => assemble([{ op: 'jump-if-equal', value: 1, then: 'nowhere' }, { op: 'return', value: 0 }]), /unknown label/);
  assert.throws(() => assemble([{ op: 'label', name: 'a' }, { op: 'label', name: 'a' }, { op: 'return', value: 0 }]), /defined twice/);
  assert.throws(() => assemble([{ op: 'label', name: 'a' }, { op: 'load', offset: 0 }, { op: 'jump-if-equal', value: 1, then: 'a' }, { op: 'return', value: 0 }]), /forward/);
});

test("bwrap's launcher hands bash the program as escapes that printf turns back into the same bytes", { skip: process.platform !== 'linux' }, () => {
  const args = launcherArgs('/usr/bin/bwrap', ['--', 'true'], filter);
  const escapes = args[args.indexOf('celistra-bwrap') + 1]!;
  assert.deepEqual(args.slice(args.indexOf('/usr/bin/bwrap'), args.indexOf('/usr/bin/bwrap') + 3), ['/usr/bin/bwrap', '--seccomp', String(SECCOMP_FD)]);
  const out = spawnSync('bash', ['-c', 'printf "%b" "$1"', 'x', escapes]);
  assert.deepEqual(out.stdout, filter);
});

test('without a program the launcher passes an empty one and no --seccomp', () => {
  const args = launcherArgs('/usr/bin/bwrap', ['--', 'true']);
  assert.equal(args[args.indexOf('celistra-bwrap') + 1], '');
  assert.ok(!args.includes('--seccomp'));
});

test('the run bundle embeds exactly the programs the assembler makes, one per variant', { skip: existsSync(RUN_BUNDLE) ? false : 'the run bundle is not built (npm run build)' }, () => {
  const bundle = readFileSync(RUN_BUNDLE, 'utf8');
  for (const o of FENCE_FILTER_VARIANTS) {
    const key = fenceFilterKey(o).replace(/[/-]/g, (c) => `\\${c}`);
    const embedded = new RegExp(`"${key}":\\s*"([0-9a-f]{400,})"`).exec(bundle);
    assert.ok(embedded?.[1], `no embedded program for ${fenceFilterKey(o)} in the bundle`);
    assert.equal(embedded[1], assembleFenceFilter(o).toString('hex'), fenceFilterKey(o));
  }
});
