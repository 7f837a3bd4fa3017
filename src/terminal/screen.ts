import xtermHeadless from '@xterm/headless';
import { SerializeAddon } from '@xterm/addon-serialize';
import { skipScrolledOff } from './screen-skip.js';
import { guardParser } from './screen-guard.js';
import { ZeroWidthLimit } from './screen-combining-limit.js';

const { Terminal } = xtermHeadless;

interface InputHandlerInternals {
  _parser?: { currentState?: number };
  _utf8Decoder?: { interim?: Uint8Array };
}

interface CoreInternals {
  _inputHandler?: InputHandlerInternals;
  buffer?: { x?: number; scrollTop?: number; scrollBottom?: number; ybase?: number; lines?: { maxLength?: number } };
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
  /**
   * Skipping text that scrolls off (screen-skip.ts) needs the parser in ground state with
   * a full-screen scroll region where a run of plain chunks starts. Each chunk is scanned
   * as it is written, continuing the run (`carry`); a non-plain item ends the run and the
   * next chunk starts a new one on the assumption that the parser is in ground state
   * there. The assumption is checked when the chunk before it has been parsed (or holds
   * from the start, a blank terminal); only then (`runVerified`) does the model skip.
   */
  private carry: Buffer | undefined = Buffer.alloc(0);
  private runVerified = true;
  /** Writes and resizes handed to xterm; the run was assumed to start after `runAfterSeq`. */
  private seq = 0;
  private runAfterSeq = 0;
  private pendingResizes = 0;
  /** The rows output written now will be parsed at: resizes wait for earlier output. */
  private streamRows: number;
  /** Zero-width characters past a bound never reach xterm (screen-combining-limit.ts). */
  private readonly zeroWidth = new ZeroWidthLimit();
  /** Output bytes the parser did not have to read (replaced by fewer, screen-skip.ts). */
  skippedBytes = 0;
  /** Set once xterm has thrown: the terminal's state is corrupt and it is used no more. */
  private failure: { error: unknown } | undefined;
  private disposed = false;
  private readonly stopParser: (() => void) | undefined;

  /**
   * @param onFailure runs once, on a later microtask, when xterm throws (from a write,
   * a resize, a serialize or its own parsing timer); from then on the model ignores
   * every call and runs no further write callback: the owner replaces it. Without it,
   * the error is rethrown (uncaught), as xterm itself would.
   */
  constructor(
    cols: number,
    rows: number,
    private readonly onFailure: (error: unknown) => void = (error) => {
      throw error;
    },
    onReply?: (reply: string) => void,
  ) {
    // No scrollback in the model: attach redraws the screen only (the byte scrollback is
    // the ring's job), and trimming scrollback lines costs ~12% of parse speed in a flood.
    this.term = new Terminal({ cols, rows, scrollback: 0, allowProposedApi: true });
    this.streamRows = rows;
    this.term.loadAddon(this.serializer);
    this.stopParser = guardParser(this.term, (error) => this.fail(error));
    // The model's answers to the agent's terminal queries (device attributes, cursor
    // position, ...): the person's terminal is never asked (terminal/output-filter.ts).
    if (onReply) this.term.onData((reply) => onReply(reply));
  }

  get failed(): boolean {
    return this.failure !== undefined;
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
    if (this.failure) return;
    if (!this.carry) this.startRun();
    this.queued += data.length;
    const seq = ++this.seq;
    const bounded = this.zeroWidth.apply(data);
    const skipped = skipScrolledOff(bounded, this.streamRows, this.carry);
    const feed = this.runVerified ? skipped.feed : bounded;
    this.carry = skipped.carry;
    if (!this.carry) this.runVerified = false;
    this.skippedBytes += data.length - feed.length;
    this.guarded(() =>
      this.term.write(feed, () => {
        if (this.failure || this.disposed) return;
        this.parsed += data.length;
        this.checkpoint(seq);
        onParsed?.();
      }),
    );
  }

  /** Run `done` once everything written so far is parsed (never, once the model failed). */
  whenParsed(done: () => void): void {
    if (this.failure) return;
    this.guarded(() =>
      this.term.write('', () => {
        if (!this.failure && !this.disposed) done();
      }),
    );
  }

  /**
   * The last line of the screen with text on it, as a person sees it (`ctl ls` LAST
   * OUTPUT): escape sequences have acted, not been stripped to leftovers. Reflects what
   * is parsed now; undefined when the model has failed.
   */
  lastLine(): string | undefined {
    return this.guarded(() => {
      const buf = this.term.buffer.active;
      for (let y = buf.length - 1; y >= 0; y--) {
        const text = buf.getLine(y)?.translateToString(true).trim();
        if (text) return text;
      }
      return '';
    });
  }

  /** In stream order: output written before the resize is parsed at the old size. */
  resize(cols: number, rows: number): void {
    if (this.failure) return;
    const seq = ++this.seq;
    this.streamRows = rows;
    // The run's line counts were for the old size: a new run starts after the resize.
    this.carry = undefined;
    this.runVerified = false;
    this.pendingResizes++;
    const apply = () => {
      this.pendingResizes--;
      this.guarded(() => this.term.resize(cols, rows));
      this.checkpoint(seq);
    };
    if (this.backlog === 0) apply();
    else this.whenParsed(apply);
  }

  private startRun(): void {
    this.carry = Buffer.alloc(0);
    this.runVerified = false;
    this.runAfterSeq = this.seq;
    // Everything before is parsed already: check now, no later checkpoint will.
    if (this.backlog === 0 && this.pendingResizes === 0) this.checkpoint(this.seq);
  }

  /**
   * Write or resize `seq` has just taken effect, so the parser state is known exactly
   * here: where the current run was assumed to start, check the assumption. A run that
   * fails it is abandoned; the next write starts a new one.
   */
  private checkpoint(seq: number): void {
    if (this.runVerified || seq !== this.runAfterSeq) return;
    // Internals missing (another xterm version) mean "unknown": no skipping then.
    const core = (this.term as unknown as { _core?: CoreInternals })._core;
    const handler = core?._inputHandler;
    const buffer = core?.buffer;
    const ground =
      handler?._parser?.currentState === 0 &&
      handler._utf8Decoder?.interim?.[0] === 0 &&
      buffer?.scrollTop === 0 &&
      buffer.scrollBottom === this.term.rows - 1 &&
      // No lines above the screen: the alternate buffer keeps some after the terminal
      // shrinks, and the serializer shows them, so text scrolled there is not gone.
      buffer.ybase === 0 &&
      buffer.lines?.maxLength === this.term.rows;
    if (ground && this.carry) this.runVerified = true;
    else this.carry = undefined;
  }

  /** Bytes parsed so far (call from a write callback, or between tasks, for exactness). */
  get parsedBytes(): number {
    return this.parsed;
  }

  /**
   * Whether "serialized screen + the bytes after this point" redraws exactly here:
   * - the parser is between sequences: no escape sequence and no UTF-8 character is half
   *   read (a cut inside `ESC [ 3 1 m` would print `1m` on the client);
   * - the cursor is not waiting to wrap. After a character lands in the last column, the
   *   next one goes to the start of the line below; no escape sequence can put a terminal
   *   in that state, so a redraw leaves the cursor on the last column and the next
   *   character would overwrite it (xterm marks the state with the cursor one past the
   *   last column).
   * Reads xterm internals (there is no public API for either); if they are missing, say
   * "exact", which is what every snapshot assumed before these checks existed.
   */
  atExactRedrawPoint(): boolean {
    const core = (this.term as unknown as { _core?: CoreInternals })._core;
    const handler = core?._inputHandler;
    const state = handler?._parser?.currentState;
    const interim = handler?._utf8Decoder?.interim;
    const x = core?.buffer?.x;
    return (state === undefined || state === 0) && (interim === undefined || interim[0] === 0) && (x === undefined || x < this.term.cols);
  }

  /**
   * The screen as a byte string that redraws it on a blank terminal of the same size, as
   * of what is parsed now (call from a write callback, or between tasks, for exactness).
   * Undefined when the model has failed (or fails now).
   */
  serialize(): string | undefined {
    if (this.failure) return undefined;
    return this.guarded(() => this.serializer.serialize({ scrollback: 0 }));
  }

  dispose(): void {
    this.disposed = true;
    // What is still queued in xterm is drained, not parsed, and reaches no caller.
    this.stopParser?.();
    // A terminal whose state is corrupt may throw while tearing down too; it is dropped anyway.
    try {
      this.term.dispose();
    } catch (e) {
      this.fail(e);
    }
  }

  /** Every call into xterm goes through here: a throw marks the model failed, not the caller. */
  private guarded<T>(call: () => T): T | undefined {
    if (this.failure) return undefined;
    try {
      return call();
    } catch (e) {
      this.fail(e);
      return undefined;
    }
  }

  private fail(error: unknown): void {
    if (this.failure) return;
    this.failure = { error };
    // Deferred: the throw may be deep inside xterm's write loop, which must unwind first.
    queueMicrotask(() => this.onFailure(error));
  }
}
