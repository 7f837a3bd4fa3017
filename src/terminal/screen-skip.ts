/**
 * Parsing text that scrolls off the screen before anyone can see it is most of the
 * screen model's cost in a flood (the model keeps no scrollback). This finds such text
 * in a chunk of output and replaces it with a few bytes that leave the model in the
 * same state once the rest of the chunk is parsed.
 *
 * Why it is exact. The chunk must start with the parser in its ground state, the scroll
 * region covering the whole screen and no lines kept above it (the caller knows when
 * that holds). From its
 * start, the chunk holds a run of "plain" items: printable ASCII, well-formed UTF-8 (no C1
 * controls), CR, LF, TAB, and the CSI sequences SGR (`ESC [ … m`) and EL (`ESC [ n K`).
 * None of them moves the cursor up or changes anything but the cursor, the attributes
 * and the cursor's own row. Split the plain run at a CR LF into P and the rest R, with
 * at least `rows` LFs in each:
 *  - P moves the cursor down at least `rows` times, so P ends with the cursor on the
 *    bottom row, column 0, and its last LF scrolled; the replacement — P's SGR
 *    sequences in order (from its last bare reset on), then CR and `rows` LFs — ends
 *    in that same cursor position,
 *    with the same attributes, its last LF scrolled too, and the parser in ground state.
 *  - The two screens then differ only in row contents and wrap flags. R starts on the
 *    bottom row and never moves up, so its `rows` or more LFs scroll every one of those
 *    rows away, while it prints the same bytes on the same fresh bottom rows in both.
 */
const CR = 0x0d;
const LF = 0x0a;
const TAB = 0x09;
const ESC = 0x1b;
const SGR_FINAL = 0x6d;

export interface SkipResult {
  /** What to feed the parser instead of the chunk (the chunk itself when nothing is skipped). */
  feed: Buffer;
  /**
   * When the chunk is plain to its end: its unfinished last item (part of an SGR/EL
   * sequence or a UTF-8 character, often empty), which the next chunk continues. When a
   * non-plain item came: undefined, and the parser state after the chunk is unknown here.
   */
  carry: Buffer | undefined;
}

/** An item cut by the end of the chunk is longer than this only in hostile output. */
const MAX_CARRY = 256;
/** The item at `i` runs past the end of the data: it may continue in the next chunk. */
const CUT = -1;

/** Length of the well-formed, non-C1 UTF-8 character at `i`, 0 if it is not one, or CUT. */
function utf8Length(data: Buffer, i: number): number {
  const b = data[i]!;
  let len: number;
  let lo = 0x80;
  let hi = 0xbf;
  // U+0080–U+009F are C1 controls to the parser (0x9b is CSI): not plain.
  if (b === 0xc2) [len, lo] = [2, 0xa0];
  else if (b >= 0xc3 && b <= 0xdf) len = 2;
  else if (b === 0xe0) [len, lo] = [3, 0xa0];
  else if (b === 0xed) [len, hi] = [3, 0x9f];
  else if (b >= 0xe1 && b <= 0xef) len = 3;
  else if (b === 0xf0) [len, lo] = [4, 0x90];
  else if (b >= 0xf1 && b <= 0xf3) len = 4;
  else if (b === 0xf4) [len, hi] = [4, 0x8f];
  else return 0;
  for (let k = 1; k < len; k++) {
    if (i + k >= data.length) return CUT;
    const c = data[i + k]!;
    if (k === 1 ? c < lo || c > hi : c < 0x80 || c > 0xbf) return 0;
  }
  return len;
}

/** Length of an SGR or EL sequence at `i` (an ESC), 0 if it is not one, or CUT; the final byte tells which. */
function csiLength(data: Buffer, i: number): number {
  if (i + 1 >= data.length) return CUT;
  if (data[i + 1] !== 0x5b) return 0;
  let j = i + 2;
  let colonOrSemicolon = false;
  while (j < data.length) {
    const c = data[j]!;
    if (c >= 0x30 && c <= 0x39) j++;
    else if (c === 0x3a || c === 0x3b) {
      colonOrSemicolon = true;
      j++;
    } else break;
  }
  if (j >= data.length) return CUT;
  if (data[j] === SGR_FINAL || (data[j] === 0x4b && !colonOrSemicolon)) return j + 1 - i;
  return 0;
}

/** ESC [ m or ESC [ 0 m: resets the attributes, whatever SGRs came before (but SGR 59). */
function isBareReset(data: Buffer, from: number, to: number): boolean {
  return to - from === 3 || (to - from === 4 && data[from + 2] === 0x30);
}

/** Whether an SGR sequence has the parameter 59, whose underline colour bits a reset leaves behind. */
function hasParam59(data: Buffer, from: number, to: number): boolean {
  let value = 0;
  for (let j = from + 2; j < to; j++) {
    const c = data[j]!;
    if (c >= 0x30 && c <= 0x39) value = value * 10 + c - 0x30;
    else {
      if (value === 59) return true;
      value = 0;
    }
  }
  return false;
}

/**
 * Skip the text of `data` that scrolls off a `rows`-row screen. The caller guarantees
 * the module comment's conditions at the start of `carry`: the unfinished item the
 * previous chunk ended with (already fed to the parser), which `data` continues.
 */
export function skipScrolledOff(data: Buffer, rows: number, carry: Buffer = Buffer.alloc(0)): SkipResult {
  const joined = carry.length ? Buffer.concat([carry, data]) : data;
  const lfs: number[] = [];
  /** Start and end of each SGR sequence, in order. */
  const sgrFrom: number[] = [];
  const sgrTo: number[] = [];
  /** Where the item the carry starts ends: the parser must read up to there as is. */
  let firstItemEnd = 0;
  let tail: Buffer | undefined;
  let i = 0;
  const n = joined.length;
  while (i < n) {
    const b = joined[i]!;
    if (b >= 0x20 && b <= 0x7e) {
      // Printable ASCII, the bulk of a flood: a tight loop (the carried item, when
      // there is one, never starts with it, so firstItemEnd below stays right).
      i++;
      while (i < n && joined[i]! >= 0x20 && joined[i]! <= 0x7e) i++;
    } else {
      let len = 1;
      if (b === LF) lfs.push(i);
      else if (b === ESC) {
        len = csiLength(joined, i);
        if (len > 0 && joined[i + len - 1] === SGR_FINAL) {
          sgrFrom.push(i);
          sgrTo.push(i + len);
        }
      } else if (b >= 0x80) len = utf8Length(joined, i);
      else if (b !== CR && b !== TAB) len = 0;
      if (len === CUT) {
        if (n - i <= MAX_CARRY) tail = joined.subarray(i);
        break;
      }
      if (len === 0) break;
      i += len;
    }
    if (firstItemEnd === 0) firstItemEnd = i;
  }
  if (i === joined.length) tail = Buffer.alloc(0);
  // Copied: the chunk's memory may be reused once it is written.
  const result = (feed: Buffer): SkipResult => ({ feed, carry: tail && Buffer.from(tail) });
  // The last CR LF that leaves at least `rows` LFs before it (itself included) and after it.
  let cut = -1;
  for (let k = lfs.length - rows - 1; k >= rows - 1; k--) {
    if (joined[lfs[k]! - 1] === CR) {
      cut = lfs[k]! + 1;
      break;
    }
  }
  if (cut === -1) return result(data);
  const start = carry.length ? firstItemEnd : 0;
  const parts: Buffer[] = [joined.subarray(carry.length, start)];
  // The SGRs inside P after the carried item, k0 ≤ k < k1: from the last bare reset on,
  // unless one before it is an SGR 59.
  const k0 = sgrFrom.length > 0 && sgrFrom[0]! < start ? 1 : 0;
  let k1 = sgrTo.length;
  while (k1 > k0 && sgrTo[k1 - 1]! > cut) k1--;
  let reset = k1 - 1;
  while (reset > k0 && !isBareReset(joined, sgrFrom[reset]!, sgrTo[reset]!)) reset--;
  let from = reset > k0 ? reset : k0;
  for (let k = k0; k < from; k++) {
    if (hasParam59(joined, sgrFrom[k]!, sgrTo[k]!)) from = k0;
  }
  for (let k = from; k < k1; k++) parts.push(joined.subarray(sgrFrom[k]!, sgrTo[k]!));
  parts.push(Buffer.from(`\r${'\n'.repeat(rows)}`), joined.subarray(cut));
  const feed = Buffer.concat(parts);
  return result(feed.length < data.length ? feed : data);
}
