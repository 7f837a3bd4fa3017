/**
 * The most recent `capacity` bytes of an agent's output: its scrollback for `ctl logs`,
 * and the tail the daemon reads the last line from.
 */
export class RingBuffer {
  private readonly buf: Buffer;
  /** Where the next byte goes. */
  private head = 0;
  private held = 0;
  /** Bytes ever written. */
  total = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity <= 0) throw new RangeError(`ring capacity must be a positive integer, not ${capacity}`);
    this.buf = Buffer.alloc(capacity);
  }

  write(data: Buffer): void {
    this.total += data.length;
    let chunk = data;
    if (chunk.length >= this.capacity) {
      chunk = chunk.subarray(chunk.length - this.capacity);
      chunk.copy(this.buf, 0);
      this.head = 0;
      this.held = this.capacity;
      return;
    }
    const first = Math.min(chunk.length, this.capacity - this.head);
    chunk.copy(this.buf, this.head, 0, first);
    if (first < chunk.length) chunk.copy(this.buf, 0, first);
    this.head = (this.head + chunk.length) % this.capacity;
    this.held = Math.min(this.capacity, this.held + chunk.length);
  }

  /** The last `n` bytes held (all of them when n is omitted or larger). */
  tail(n: number = this.held): Buffer {
    const len = Math.max(0, Math.min(n, this.held));
    const start = (this.head - len + this.capacity) % this.capacity;
    if (start + len <= this.capacity) return Buffer.from(this.buf.subarray(start, start + len));
    return Buffer.concat([this.buf.subarray(start), this.buf.subarray(0, len - (this.capacity - start))]);
  }

  /** The last complete-or-partial line with text, without escape sequences (for `ctl ls`). */
  lastLine(): string {
    return lastLineOf(this.tail(Math.min(this.held, 4096)));
  }
}

const CSI_OR_OSC = /\x1b\[[0-?]*[ -\/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[()][0-9A-Za-z]|\x1b[@-Z\\-_]/g;

/** The last non-blank line of terminal output, with escape sequences and controls removed. */
export function lastLineOf(output: Buffer): string {
  const text = output.toString('utf8').replace(CSI_OR_OSC, '').replace(/\r\n/g, '\n').replace(/\r/g, '\n');
  const lines = text.split('\n');
  for (let i = lines.length - 1; i >= 0; i--) {
    // eslint-disable-next-line no-control-regex
    const line = lines[i]!.replace(/[\x00-\x08\x0b-\x1f\x7f]/g, '').trim();
    if (line) return line;
  }
  return '';
}
