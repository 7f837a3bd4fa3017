/**
 * A classic-BPF program as seccomp loads it: `struct sock_filter` entries of 8 bytes
 * (u16 code, u8 jt, u8 jf, u32 k) in the machine's byte order. Written with named
 * labels, because seccomp jumps are forward offsets counted in instructions, and a
 * miscounted offset silently changes what a filter allows.
 */

const BPF_LD_W_ABS = 0x20; // BPF_LD | BPF_W | BPF_ABS: load a 32-bit word of seccomp_data
const BPF_JEQ_K = 0x15; // BPF_JMP | BPF_JEQ | BPF_K
const BPF_RET_K = 0x06; // BPF_RET | BPF_K
const BPF_AND_K = 0x54; // BPF_ALU | BPF_AND | BPF_K

export const SECCOMP_RET_KILL_PROCESS = 0x80000000;
export const SECCOMP_RET_ERRNO = 0x00050000;
export const SECCOMP_RET_ALLOW = 0x7fff0000;

/** Offsets into struct seccomp_data: nr (u32), arch (u32), ip (u64), args[6] (u64). */
export const SECCOMP_DATA = {
  nr: 0,
  arch: 4,
  /** The low 32 bits of argument `i` (little-endian machines only: see assemble()). */
  argLow: (i: number) => 16 + 8 * i,
} as const;

export type Instruction =
  | { op: 'load'; offset: number }
  /** Keep only the loaded word's bits in `mask` (flags packed beside a value). */
  | { op: 'and'; mask: number }
  /** Go to `then` when the loaded word equals `value`, else fall through (or to `otherwise`). */
  | { op: 'jump-if-equal'; value: number; then: string; otherwise?: string }
  | { op: 'return'; value: number }
  | { op: 'label'; name: string };

const MAX_JUMP = 255;

/** Encode `program`, resolving labels; throws on an unknown label or an impossible jump. */
export function assemble(program: Instruction[]): Buffer {
  const little = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
  // The argument offsets above name the low word of a u64, which is where it sits only
  // on a little-endian machine; every architecture the filters support is one.
  if (!little) throw new Error('seccomp filters are only assembled on little-endian machines');
  const labels = new Map<string, number>();
  const body = program.filter((i): i is Exclude<Instruction, { op: 'label' }> => i.op !== 'label');
  let index = 0;
  for (const ins of program) {
    if (ins.op === 'label') {
      if (labels.has(ins.name)) throw new Error(`label ${ins.name} defined twice`);
      labels.set(ins.name, index);
    } else index++;
  }
  const offset = (from: number, label: string | undefined): number => {
    if (label === undefined) return 0;
    const to = labels.get(label);
    if (to === undefined) throw new Error(`unknown label ${label}`);
    const distance = to - from - 1;
    if (distance < 0 || distance > MAX_JUMP) throw new Error(`jump to ${label} is not a forward jump of at most ${MAX_JUMP}`);
    return distance;
  };
  const out = Buffer.alloc(body.length * 8);
  body.forEach((ins, i) => {
    let code: number;
    let jt = 0;
    let jf = 0;
    let k: number;
    switch (ins.op) {
      case 'load':
        code = BPF_LD_W_ABS;
        k = ins.offset;
        break;
      case 'and':
        code = BPF_AND_K;
        k = ins.mask;
        break;
      case 'jump-if-equal':
        code = BPF_JEQ_K;
        jt = offset(i, ins.then);
        jf = offset(i, ins.otherwise);
        k = ins.value;
        break;
      case 'return':
        code = BPF_RET_K;
        k = ins.value;
        break;
    }
    out.writeUInt16LE(code, i * 8);
    out.writeUInt8(jt, i * 8 + 2);
    out.writeUInt8(jf, i * 8 + 3);
    out.writeUInt32LE(k >>> 0, i * 8 + 4);
  });
  return out;
}
