/**
 * The wire format between the daemon and an agent's holder: a stream of frames, each
 * `[u8 kind][u32 json length][u32 bytes length][json][bytes]`. JSON carries control
 * fields; the byte part carries terminal data untouched (no base64, no UTF-8 decoding
 * of output that may split a character).
 */
export const FrameKind = {
  // holder → daemon
  hello: 1,
  output: 2,
  snapshot: 3,
  logs: 4,
  exit: 5,
  /** `{lastLine}`: the screen's last line with text, sent when it changes. */
  status: 6,
  // daemon → holder
  input: 20,
  resize: 21,
  signal: 22,
  snapshotRequest: 23,
  logsRequest: 24,
  release: 25,
} as const;
export type FrameKind = (typeof FrameKind)[keyof typeof FrameKind];

export interface Frame {
  kind: FrameKind;
  json: Record<string, unknown>;
  bytes: Buffer;
}

const HEADER = 9;
/** A frame larger than this is a protocol error, not a big message. */
export const MAX_FRAME = 64 * 1024 * 1024;

const EMPTY = Buffer.alloc(0);

export function encodeFrame(kind: FrameKind, json: Record<string, unknown> = {}, bytes: Buffer = EMPTY): Buffer {
  const j = Buffer.from(JSON.stringify(json));
  const head = Buffer.allocUnsafe(HEADER);
  head.writeUInt8(kind, 0);
  head.writeUInt32BE(j.length, 1);
  head.writeUInt32BE(bytes.length, 5);
  return Buffer.concat([head, j, bytes]);
}

/** Accumulates socket chunks and yields whole frames. */
export class FrameDecoder {
  private pending: Buffer[] = [];
  private pendingLen = 0;
  /** Bytes needed before the next frame can be complete: chunks are joined only then. */
  private need = HEADER;

  push(chunk: Buffer): Frame[] {
    this.pending.push(chunk);
    this.pendingLen += chunk.length;
    if (this.pendingLen < this.need) return [];
    const frames: Frame[] = [];
    const buf = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending, this.pendingLen);
    let off = 0;
    this.need = HEADER;
    while (buf.length - off >= HEADER) {
      const jsonLen = buf.readUInt32BE(off + 1);
      const binLen = buf.readUInt32BE(off + 5);
      if (jsonLen + binLen > MAX_FRAME) throw new Error(`frame of ${jsonLen + binLen} bytes exceeds the limit`);
      const end = off + HEADER + jsonLen + binLen;
      if (buf.length < end) {
        this.need = end - off;
        break;
      }
      const kind = buf.readUInt8(off) as FrameKind;
      const json = jsonLen ? (JSON.parse(buf.toString('utf8', off + HEADER, off + HEADER + jsonLen)) as Record<string, unknown>) : {};
      frames.push({ kind, json, bytes: buf.subarray(off + HEADER + jsonLen, end) });
      off = end;
    }
    const rest = buf.subarray(off);
    this.pending = rest.length ? [rest] : [];
    this.pendingLen = rest.length;
    return frames;
  }
}
