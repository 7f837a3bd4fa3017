import xtermHeadless from '@xterm/headless';
import { SerializeAddon } from '@xterm/addon-serialize';

const { Terminal } = xtermHeadless;

/**
 * A headless terminal fed with everything the agent prints, so an attaching client can
 * be sent the exact current screen (modes, colours, cursor) instead of raw bytes cut
 * mid-escape-sequence.
 */
export class ScreenModel {
  private readonly term: InstanceType<typeof Terminal>;
  private readonly serializer = new SerializeAddon();
  /** Bytes handed to the parser; parsing runs asynchronously behind this. */
  private queued = 0;
  private parsed = 0;

  constructor(cols: number, rows: number) {
    // No scrollback in the model: attach redraws the screen only (the byte scrollback is
    // the ring's job), and trimming scrollback lines costs ~12% of parse speed in a flood.
    this.term = new Terminal({ cols, rows, scrollback: 0, allowProposedApi: true });
    this.term.loadAddon(this.serializer);
  }

  get cols(): number {
    return this.term.cols;
  }

  get rows(): number {
    return this.term.rows;
  }

  /** Bytes written but not parsed yet: the holder pauses the PTY when this grows. */
  get backlog(): number {
    return this.queued - this.parsed;
  }

  write(data: Buffer, onParsed?: () => void): void {
    this.queued += data.length;
    this.term.write(data, () => {
      this.parsed += data.length;
      onParsed?.();
    });
  }

  resize(cols: number, rows: number): void {
    this.term.resize(cols, rows);
  }

  /**
   * The screen as a byte string that redraws it on a blank terminal of the same size,
   * once everything written so far is parsed.
   */
  snapshot(): Promise<string> {
    return new Promise((resolve) => {
      this.term.write('', () => resolve(this.serialize()));
    });
  }

  /** The screen as of what is parsed now (call from a write callback for exactness). */
  serialize(): string {
    return this.serializer.serialize({ scrollback: 0 });
  }

  dispose(): void {
    this.term.dispose();
  }
}
