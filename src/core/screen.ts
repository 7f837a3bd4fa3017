import xtermHeadless from '@xterm/headless';
import { SerializeAddon } from '@xterm/addon-serialize';

const { Terminal } = xtermHeadless;

interface InputHandlerInternals {
  _parser?: { currentState?: number };
  _utf8Decoder?: { interim?: Uint8Array };
}

/**
 * A headless terminal fed with everything the agent prints, so an attaching client can
 * be sent the exact current screen (modes, colours, cursor) instead of raw bytes cut
 * mid-escape-sequence (ScreenFeed in screen-feed.ts picks the points where that holds).
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

  write(data: Uint8Array, onParsed?: () => void): void {
    this.queued += data.length;
    this.term.write(data, () => {
      this.parsed += data.length;
      onParsed?.();
    });
  }

  /** Run `done` once everything written so far is parsed. */
  whenParsed(done: () => void): void {
    this.term.write('', done);
  }

  resize(cols: number, rows: number): void {
    this.term.resize(cols, rows);
  }

  /** Bytes parsed so far (call from a write callback, or between tasks, for exactness). */
  get parsedBytes(): number {
    return this.parsed;
  }

  /**
   * Whether the parser is between sequences: no escape sequence and no UTF-8 character
   * is half read. Only then does "serialized screen + the bytes after this point" redraw
   * exactly; a cut inside `ESC [ 3 1 m` would print `1m` on the client. Reads xterm
   * internals (there is no public API for it); if they are missing, say "safe", which
   * is what every snapshot assumed before this check existed.
   */
  atSequenceBoundary(): boolean {
    const handler = (this.term as unknown as { _core?: { _inputHandler?: InputHandlerInternals } })._core?._inputHandler;
    const state = handler?._parser?.currentState;
    const interim = handler?._utf8Decoder?.interim;
    return (state === undefined || state === 0) && (interim === undefined || interim[0] === 0);
  }

  /**
   * The screen as a byte string that redraws it on a blank terminal of the same size, as
   * of what is parsed now (call from a write callback, or between tasks, for exactness).
   */
  serialize(): string {
    return this.serializer.serialize({ scrollback: 0 });
  }

  dispose(): void {
    this.term.dispose();
  }
}
