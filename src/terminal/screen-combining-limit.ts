/**
 * A bound on zero-width characters per cell, for the screen model (issue 19, class 5).
 * A terminal emulator stores combining marks (and other zero-width characters) with the
 * cell they follow, without limit: an agent printing one letter and then megabytes of
 * U+0301 grows a single cell until the holder's heap (64 MB) is exhausted, in under 3 s,
 * ending the holder and hanging up its agent. Past MAX_ZERO_WIDTH_RUN in a row, further
 * zero-width characters are not given to the model (no terminal draws them visibly
 * anyway); the byte stream to clients and the scrollback are untouched.
 *
 * Streaming: a UTF-8 character split across writes is completed from the next one.
 */
export const MAX_ZERO_WIDTH_RUN = 32;

/** Combining marks, enclosing marks and format characters (ZWJ, ZWNJ, bidi marks, ...). */
const ZERO_WIDTH = /^[\p{Mn}\p{Me}\p{Cf}]$/u;

export class ZeroWidthLimit {
  private run = 0;
  /**
   * The start of a UTF-8 character whose continuation bytes are in the next write. It
   * was passed on already: held back, the model's byte offsets would no longer match
   * the stream's, and a snapshot could cut the character in two.
   */
  private partial: Buffer | undefined;

  /** `data` without the zero-width characters beyond the bound (the same buffer when none are dropped). */
  apply(data: Buffer): Buffer {
    const pieces: Buffer[] = [];
    let keptUntil = 0;
    let i = 0;
    if (this.partial) {
      const lead = this.partial;
      this.partial = undefined;
      const need = utf8Length(lead[0]!) - lead.length;
      if (need <= data.length) {
        if (this.count(Buffer.concat([lead, data.subarray(0, need)]))) {
          // Over the bound: its lead bytes are gone already; without the rest the model
          // shows one replacement character, which takes a cell of its own.
          keptUntil = need;
        }
        i = need;
      }
    }
    while (i < data.length) {
      const b = data[i]!;
      if (b < 0x80) {
        this.run = 0;
        i++;
        continue;
      }
      const len = utf8Length(b);
      if (i + len > data.length) {
        this.partial = Buffer.from(data.subarray(i));
        break;
      }
      if (len > 1 && this.count(data.subarray(i, i + len))) {
        pieces.push(data.subarray(keptUntil, i));
        keptUntil = i + len;
      }
      i += len;
    }
    if (keptUntil === 0) return data;
    pieces.push(data.subarray(keptUntil));
    return Buffer.concat(pieces);
  }

  /** Counts one character; true when it is zero-width and past the bound (to be dropped). */
  private count(char: Buffer): boolean {
    if (!ZERO_WIDTH.test(char.toString('utf8'))) {
      this.run = 0;
      return false;
    }
    this.run++;
    return this.run > MAX_ZERO_WIDTH_RUN;
  }
}

function utf8Length(lead: number): number {
  return lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
}
