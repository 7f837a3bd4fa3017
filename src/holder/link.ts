import { connect, type Socket } from 'node:net';
import { EventEmitter } from 'node:events';
import { encodeFrame, FrameDecoder, FrameKind, type Frame } from './frame.js';
import type { ExitInfo, HolderHello } from './config.js';

export interface Snapshot {
  /** Redraws the screen on a blank terminal of cols × rows. */
  screen: string;
  cols: number;
  rows: number;
  /** Output after the snapshot point, to be sent right after `screen`. */
  tail: Buffer;
}

interface LinkEvents {
  output: [Buffer];
  /** The holder's screen model's last line with text. */
  lastLine: [string];
  /** With the run's scrollback when the holder sent it along (older holders do not). */
  exit: [ExitInfo, Buffer | undefined];
  close: [];
}

/**
 * The daemon's connection to one holder. Replies (snapshot, logs) come back in order on
 * the same stream as output, so whatever a caller sends after a snapshot reply is live.
 */
export class HolderLink extends EventEmitter<LinkEvents> {
  private readonly waiting = new Map<number, (f: Frame) => void>();
  private nextId = 1;
  closed = false;

  /**
   * Frames decoded before start(): the hello and, for a command that ends at once, its
   * exit frame often arrive in one chunk, and an 'exit' emitted before the supervisor has
   * attached its listener would be lost (the agent would stay "running" forever).
   */
  private held: Frame[] | undefined = [];

  private constructor(
    private readonly sock: Socket,
    readonly hello: HolderHello,
  ) {
    super();
  }

  /** Deliver the frames held since the hello, then every later one as it comes. Call once listening. */
  start(): void {
    const held = this.held ?? [];
    this.held = undefined;
    for (const f of held) this.onFrame(f);
  }

  /** Connect and read the holder's hello; rejects when nobody listens. */
  static open(socketPath: string, timeoutMs = 3000): Promise<HolderLink> {
    return new Promise((resolve, reject) => {
      const sock = connect(socketPath);
      const decoder = new FrameDecoder();
      let link: HolderLink | undefined;
      const timer = setTimeout(() => {
        sock.destroy();
        reject(new Error(`holder at ${socketPath} did not answer`));
      }, timeoutMs);
      sock.on('error', (e) => {
        clearTimeout(timer);
        if (!link) reject(e);
      });
      sock.on('close', () => {
        clearTimeout(timer);
        if (!link) reject(new Error(`holder at ${socketPath} closed the connection`));
        else link.onClose();
      });
      sock.on('data', (chunk) => {
        let frames: Frame[];
        try {
          frames = decoder.push(chunk);
        } catch {
          sock.destroy();
          return;
        }
        for (const f of frames) {
          if (!link) {
            // A holder of an older version may send output it had waiting before its
            // hello: that output is in its ring (the daemon seeds from it), so skip it.
            if (f.kind === FrameKind.output) continue;
            if (f.kind !== FrameKind.hello) {
              sock.destroy();
              return;
            }
            clearTimeout(timer);
            link = new HolderLink(sock, f.json as unknown as HolderHello);
            resolve(link);
            continue;
          }
          link.onFrame(f);
        }
      });
    });
  }

  private onFrame(f: Frame): void {
    if (this.held) {
      this.held.push(f);
      return;
    }
    switch (f.kind) {
      case FrameKind.output:
        this.emit('output', f.bytes);
        break;
      case FrameKind.exit:
        this.emit('exit', exitInfoOf(f.json), f.json.scrollback === true ? f.bytes : undefined);
        break;
      case FrameKind.status:
        if (typeof f.json.lastLine === 'string') this.emit('lastLine', f.json.lastLine);
        break;
      case FrameKind.snapshot:
      case FrameKind.logs: {
        const id = Number(f.json.id);
        const done = this.waiting.get(id);
        this.waiting.delete(id);
        done?.(f);
        break;
      }
      default:
        break;
    }
  }

  private onClose(): void {
    this.closed = true;
    for (const done of this.waiting.values()) done({ kind: FrameKind.release, json: { closed: true }, bytes: Buffer.alloc(0) });
    this.waiting.clear();
    this.emit('close');
  }

  /**
   * Send a request; `done` runs synchronously when the reply frame is decoded, before
   * any later output is emitted, so a caller can switch a client from "waiting" to
   * "live" at exactly the right byte.
   */
  private request(kind: FrameKind, json: Record<string, unknown>, done: (f: Frame | undefined) => void): void {
    if (this.closed) {
      done(undefined);
      return;
    }
    const id = this.nextId++;
    this.waiting.set(id, (f) => done(f.json.closed ? undefined : f));
    this.sock.write(encodeFrame(kind, { ...json, id }));
  }

  /** The current screen; `done(undefined)` when the holder went away first. */
  snapshotNow(done: (s: Snapshot | undefined) => void): void {
    this.request(FrameKind.snapshotRequest, {}, (f) =>
      done(f && { screen: String(f.json.screen), cols: Number(f.json.cols), rows: Number(f.json.rows), tail: f.bytes }),
    );
  }

  /** The last `bytes` of scrollback (all of it when omitted); synchronous like snapshotNow. */
  logsNow(bytes: number | undefined, done: (b: Buffer | undefined) => void): void {
    this.request(FrameKind.logsRequest, bytes === undefined ? {} : { bytes }, (f) => done(f && Buffer.from(f.bytes)));
  }

  logs(bytes?: number): Promise<Buffer> {
    return new Promise((resolve, reject) => this.logsNow(bytes, (b) => (b ? resolve(b) : reject(new Error('holder connection closed')))));
  }

  input(data: Buffer): void {
    if (!this.closed) this.sock.write(encodeFrame(FrameKind.input, {}, data));
  }

  resize(cols: number, rows: number): void {
    if (!this.closed) this.sock.write(encodeFrame(FrameKind.resize, { cols, rows }));
  }

  signal(signal: string): void {
    if (!this.closed) this.sock.write(encodeFrame(FrameKind.signal, { signal }));
  }

  /** Tell a holder whose agent has exited that its state is collected and it may go. */
  release(): void {
    if (!this.closed) this.sock.end(encodeFrame(FrameKind.release));
  }

  /** Drop the connection, leaving the holder (and the agent) running. */
  detach(): void {
    this.sock.destroy();
  }
}

/** The exit as recorded and reported: only its own fields, whatever else the frame carries. */
function exitInfoOf(json: Record<string, unknown>): ExitInfo {
  const { code, signal, status, at } = json as unknown as ExitInfo;
  return { code, signal, status, at };
}
