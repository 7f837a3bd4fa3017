import { ScreenModel } from './screen.js';

export interface ScreenAt {
  /** Redraws the screen on a blank terminal of cols × rows. */
  screen: string;
  cols: number;
  rows: number;
  /** The stream offset the screen reflects: output bytes before it are in it. */
  offset: number;
}

/**
 * A snapshot asked for while the parser has read everything but stopped inside a
 * sequence waits this long for the rest of it before it settles for the cut.
 */
const MID_SEQUENCE_WAIT_MS = 50;

export interface ScreenFeedRecovery {
  /**
   * The last output bytes written so far, ending exactly at the latest write (the
   * holder's scrollback ring): replayed into a rebuilt model so an attach shows an
   * approximate screen rather than a blank one.
   */
  history?: () => Buffer;
  /** Told of every xterm failure the feed recovered from (the holder logs it). */
  onFailure?: (error: unknown) => void;
  /**
   * The model's answer to a terminal query in the output (DA, DSR, ...), for the agent's
   * input. Not called for queries in history replayed into a rebuilt model: those were
   * answered when they were first parsed.
   */
  onReply?: (reply: string) => void;
}

/**
 * The agent's screen model fed with its output, with exact snapshots. The parser runs
 * asynchronously behind the output that is already sent on, so a snapshot is the
 * screen at a stream offset N where the parser sits between sequences (no escape
 * sequence or UTF-8 character half read), and `bytesSince(N)` gives every byte after
 * it, kept here until parsed. Screen + those bytes + live output redraws exactly, with
 * nothing lost or repeated, however far the parser is behind.
 */
export class ScreenFeed {
  private model: ScreenModel;
  /** The size asked for last (the model applies a resize only after earlier output). */
  private size: { cols: number; rows: number };
  /** Stream offset of the current model's first byte: 0 unless it was rebuilt. */
  private modelBase = 0;
  /** The current model was rebuilt and is still parsing the history it was given. */
  private replayingHistory = false;
  /** Bytes of output written, ever. */
  private written = 0;
  /** Output from offset `retainedStart` on that may not be parsed yet. */
  private retained: Buffer[] = [];
  private retainedStart = 0;
  /** Snapshot requests in arrival order, each wanting the screen at or after an offset. */
  private waiting: Array<{ atLeast: number; done: (s: ScreenAt) => void }> = [];
  private midSequenceTimer: NodeJS.Timeout | undefined;

  /**
   * @param onProgress runs after each parsed write (the holder resumes a paused PTY).
   * @param recovery if xterm throws, the feed replaces its model with a fresh one of the
   * current size fed `recovery.history`; the output stream itself is never affected.
   */
  constructor(
    cols: number,
    rows: number,
    private readonly onProgress: () => void,
    private readonly recovery: ScreenFeedRecovery = {},
  ) {
    this.size = { cols, rows };
    this.model = this.newModel();
  }

  get cols(): number {
    return this.model.cols;
  }

  get rows(): number {
    return this.model.rows;
  }

  /** Bytes written but not parsed yet: the holder pauses the PTY when this grows. */
  get backlog(): number {
    return this.model.backlog;
  }

  write(data: Buffer): void {
    this.retained.push(data);
    this.written += data.length;
    this.feedModel(data);
  }

  /** In stream order: output written before the resize is parsed at the old size. */
  resize(cols: number, rows: number): void {
    this.size = { cols, rows };
    this.model.resize(cols, rows);
  }

  /**
   * Replace a model xterm has failed in (`error` thrown by xterm outside any call the
   * model guards, e.g. caught by the holder's uncaught-exception guard): a fresh model at
   * the current size, fed the history, so snapshots, bytesSince and flow control go on.
   * If the replay itself makes xterm fail, the next model starts blank.
   */
  recover(error: unknown): void {
    this.recovery.onFailure?.(error);
    const history = this.replayingHistory ? Buffer.alloc(0) : this.historyTail();
    this.model.dispose();
    clearTimeout(this.midSequenceTimer);
    this.midSequenceTimer = undefined;
    this.model = this.newModel();
    // The history is the stream's tail, so it takes the place of the retained bytes:
    // a snapshot of the new model at offset N is followed by bytesSince(N) as before.
    this.modelBase = this.written - history.length;
    this.retainedStart = this.modelBase;
    this.retained = history.length > 0 ? [history] : [];
    this.replayingHistory = history.length > 0;
    if (this.replayingHistory) this.feedModel(history);
    // Requests the failed model never answered, and a PTY paused for its backlog.
    if (this.model.backlog === 0) this.trySnapshots();
    this.onProgress();
  }

  /**
   * The current screen: at the first sequence boundary the parser reaches once it has
   * parsed everything written so far (so it lags the output by at most the backlog).
   */
  snapshot(done: (s: ScreenAt) => void): void {
    this.waiting.push({ atLeast: this.written, done });
    // Called between tasks, the parser sits between two writes: the model is exact now.
    if (this.model.backlog === 0) this.trySnapshots();
  }

  /**
   * The screen's last line with text as parsed so far (exact when `backlog` is 0);
   * undefined while the model is failed. Read only, never a write to xterm: a write
   * would move the points snapshots wait for.
   */
  lastLine(): string | undefined {
    return this.model.lastLine();
  }

  /** Every byte written from `offset` on (an offset from a snapshot answered since). */
  bytesSince(offset: number): Buffer {
    const parts: Buffer[] = [];
    let at = this.retainedStart;
    for (const chunk of this.retained) {
      const end = at + chunk.length;
      if (end > offset) parts.push(at >= offset ? chunk : chunk.subarray(offset - at));
      at = end;
    }
    return Buffer.concat(parts);
  }

  dispose(): void {
    clearTimeout(this.midSequenceTimer);
    this.model.dispose();
  }

  private newModel(): ScreenModel {
    const onReply = this.recovery.onReply;
    const model: ScreenModel = new ScreenModel(
      this.size.cols,
      this.size.rows,
      (error) => {
        // A model already replaced (its failure came late) is nobody's business.
        if (model === this.model) this.recover(error);
      },
      onReply && ((reply) => {
        if (model === this.model && !this.replayingHistory) onReply(reply);
      }),
    );
    return model;
  }

  private feedModel(data: Buffer): void {
    const model = this.model;
    model.write(data, () => {
      if (model !== this.model) return;
      // The first write to a rebuilt model is its history.
      this.replayingHistory = false;
      this.afterChunk();
    });
  }

  private historyTail(): Buffer {
    const history = this.recovery.history?.() ?? Buffer.alloc(0);
    // Never more than was written: the offsets below must stay in the stream.
    return history.length > this.written ? history.subarray(history.length - this.written) : history;
  }

  /** The stream offset the model has parsed up to. */
  private get parsedOffset(): number {
    return this.modelBase + this.model.parsedBytes;
  }

  /** Runs right after a write is parsed: the model then reflects exactly `parsedOffset`. */
  private afterChunk(): void {
    this.trySnapshots();
    // Parsed bytes are in the screen: no snapshot from now on can start before them.
    while (this.retained.length > 0 && this.retainedStart + this.retained[0]!.length <= this.parsedOffset) {
      this.retainedStart += this.retained.shift()!.length;
    }
    this.onProgress();
  }

  /**
   * Answer what can be answered exactly now. A cut inside an escape sequence or a UTF-8
   * character, or with the cursor waiting to wrap, cannot be redrawn exactly
   * (ScreenModel.atExactRedrawPoint), so requests wait for a point that can; if the
   * parser has read everything and sits at such a cut (the agent stopped there), they
   * get it after MID_SEQUENCE_WAIT_MS.
   */
  private trySnapshots(): void {
    if (this.waiting.length === 0) return;
    if (this.model.atExactRedrawPoint()) this.answer(this.model.backlog === 0);
    else if (this.model.backlog === 0 && !this.midSequenceTimer) {
      this.midSequenceTimer = setTimeout(() => {
        this.midSequenceTimer = undefined;
        // More output came meanwhile: the next parsed write answers at a boundary.
        if (this.model.backlog === 0) this.answer(true);
      }, MID_SEQUENCE_WAIT_MS);
    }
    if (this.waiting.length === 0 && this.midSequenceTimer) {
      clearTimeout(this.midSequenceTimer);
      this.midSequenceTimer = undefined;
    }
  }

  /** Answer the requests the model has reached (all of them when `all`). */
  private answer(all: boolean): void {
    const offset = this.parsedOffset;
    const due = all ? this.waiting.length : this.waiting.findIndex((w) => w.atLeast > offset);
    const n = due === -1 ? this.waiting.length : due;
    if (n === 0) return;
    // A model failing here is replaced (on a microtask), and the new one answers.
    const screen = this.model.serialize();
    if (screen === undefined) return;
    const answered = this.waiting.slice(0, n);
    this.waiting = this.waiting.slice(n);
    const at: ScreenAt = { screen, cols: this.model.cols, rows: this.model.rows, offset };
    for (const w of answered) w.done(at);
  }
}
