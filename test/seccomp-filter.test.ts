import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { assemble, SECCOMP_RET_ALLOW, SECCOMP_RET_ERRNO, SECCOMP_RET_KILL_PROCESS } from '../src/backends/seccomp/bpf-program.js';
import { assembleUnixSocketFilter, unixSocketFilter, unixSocketFilterSupported } from '../src/backends/seccomp/unix-socket-filter.js';
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
const EPERM = SECCOMP_RET_ERRNO | 1;

const filter = unixSocketFilter('x64')!;
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
  assert.equal(unixSocketFilterSupported('riscv64'), false);
  assert.equal(unixSocketFilter('riscv64'), undefined);
  assert.ok(unixSocketFilterSupported('arm64'));
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

test('the run bundle embeds exactly the program the assembler makes', { skip: existsSync(RUN_BUNDLE) ? false : 'the run bundle is not built (npm run build)' }, () => {
  const bundle = readFileSync(RUN_BUNDLE, 'utf8');
  const embedded = /__CELISTRA_UNIX_SOCKET_FILTER_HEX__|"([0-9a-f]{400,})"/.exec(bundle);
  assert.ok(embedded?.[1], 'no embedded program in the bundle');
  assert.equal(embedded[1], assembleUnixSocketFilter().toString('hex'));
});
