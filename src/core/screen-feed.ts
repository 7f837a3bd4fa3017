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

/**
 * The agent's screen model fed with its output, with exact snapshots. The parser runs
 * asynchronously behind the output that is already sent on, so a snapshot is the
 * screen at a stream offset N where the parser sits between sequences (no escape
 * sequence or UTF-8 character half read), and `bytesSince(N)` gives every byte after
 * it, kept here until parsed. Screen + those bytes + live output redraws exactly, with
 * nothing lost or repeated, however far the parser is behind.
 */
export class ScreenFeed {
  private readonly model: ScreenModel;
  /** Bytes of output written, ever. */
  private written = 0;
  /** Output from offset `retainedStart` on that may not be parsed yet. */
  private retained: Buffer[] = [];
  private retainedStart = 0;
  /** Snapshot requests in arrival order, each wanting the screen at or after an offset. */
  private waiting: Array<{ atLeast: number; done: (s: ScreenAt) => void }> = [];
  private midSequenceTimer: NodeJS.Timeout | undefined;

  /** @param onProgress runs after each parsed write (the holder resumes a paused PTY). */
  constructor(
    cols: number,
    rows: number,
    private readonly onProgress: () => void,
  ) {
    this.model = new ScreenModel(cols, rows);
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
    this.model.write(data, () => this.afterChunk());
  }

  /** In stream order: output written before the resize is parsed at the old size. */
  resize(cols: number, rows: number): void {
    this.model.resize(cols, rows);
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

  /** Runs right after a write is parsed: the model then reflects exactly `parsedBytes`. */
  private afterChunk(): void {
    this.trySnapshots();
    // Parsed bytes are in the screen: no snapshot from now on can start before them.
    while (this.retained.length > 0 && this.retainedStart + this.retained[0]!.length <= this.model.parsedBytes) {
      this.retainedStart += this.retained.shift()!.length;
    }
    this.onProgress();
  }

  /**
   * Answer what can be answered exactly now. A cut inside an escape sequence or a UTF-8
   * character cannot be redrawn exactly, so requests wait for a boundary; if the parser
   * has read everything and sits mid-sequence (the agent stopped there), they get the
   * cut after MID_SEQUENCE_WAIT_MS.
   */
  private trySnapshots(): void {
    if (this.waiting.length === 0) return;
    if (this.model.atSequenceBoundary()) this.answer(this.model.backlog === 0);
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
    const offset = this.model.parsedBytes;
    const due = all ? this.waiting.length : this.waiting.findIndex((w) => w.atLeast > offset);
    const n = due === -1 ? this.waiting.length : due;
    if (n === 0) return;
    const answered = this.waiting.slice(0, n);
    this.waiting = this.waiting.slice(n);
    const at: ScreenAt = { screen: this.model.serialize(), cols: this.model.cols, rows: this.model.rows, offset };
    for (const w of answered) w.done(at);
  }
}
