/**
 * What an agent prints, made safe for a person's real terminal (issue 19, class 3). An
 * agent controls every byte of its output; forwarded raw, it could write the user's
 * clipboard (OSC 52), set titles and notifications, or ask the terminal questions (device
 * attributes, cursor position, DECRQSS, XTVERSION, window size, colours) whose answers
 * come back as if the user had typed them. tmux never forwards such things: it interprets
 * output into its own screen and redraws. Here the screen model (screen.ts) is what an
 * attaching client is first drawn from, and the live bytes after it pass this filter:
 *
 * - kept: text, BS HT LF VT FF CR BEL SO SI, ESC sequences that draw or move (ESC 7/8,
 *   charsets, keypad modes, index, reset), and CSI sequences from an allowlist of display
 *   and mode controls (cursor, erase, scroll region, SGR, DECSET/DECRST, cursor style);
 * - dropped whole: every string sequence (OSC, DCS, APC, PM, SOS — titles, clipboard,
 *   hyperlinks, notifications, DECRQSS, sixel), every CSI not on the allowlist (DA, DSR,
 *   DECRQM, XTVERSION, window operations `t`, printing `i`, ...), ESC Z (DECID), ENQ, and
 *   C1 controls (raw 0x80–0x9F outside a UTF-8 character, or U+0080–U+009F encoded; a
 *   C1 CSI or string introducer is read as its ESC form would be, so what follows it is
 *   filtered the same way);
 * - queries are answered by the holder's screen model instead (holder/main.ts).
 *
 * Per agent, the user may allow (`ctl spawn --allow-terminal title,clipboard,notify`):
 * titles (OSC 0/1/2), clipboard writes (OSC 52 with base64 data; a read, `?`, never
 * passes) and notifications (OSC 9 text, OSC 777;notify). Those pass re-encoded from what
 * was parsed, never as the agent's bytes: printable text only (no C0/C1 controls, no
 * bidi controls), bounded in length, ended with ST. Everything else in a string sequence
 * is still dropped, and a payload over its bound drops the whole sequence.
 *
 * `text` mode (for `ctl logs`) keeps only text, LF and HT: every escape sequence and
 * control is dropped, CR LF becomes LF, and a lone CR becomes LF.
 *
 * Stateful: a sequence may be split across chunks. Bounded: a CSI longer than
 * MAX_CSI_BYTES is dropped, and string sequences are never buffered.
 */
export type OutputFilterMode = 'terminal' | 'text';

/** What an agent's terminal may pass to a person's terminal besides drawing (per agent, opt-in). */
export const TERMINAL_ALLOWANCES = ['title', 'clipboard', 'notify'] as const;
export type TerminalAllowance = (typeof TERMINAL_ALLOWANCES)[number];

/** Code points of a title or of a notification's title; a notification's body gets NOTIFY_MAX. */
const TITLE_MAX = 256;
const NOTIFY_MAX = 1024;
/** Base64 characters of one clipboard write (~768 KiB of text): bounded memory per sequence. */
const CLIPBOARD_MAX = 1024 * 1024;

const ESC = 0x1b;
const MAX_CSI_BYTES = 256;

/** CSI finals allowed with no private prefix: they draw, move, erase, scroll or set modes. */
const CSI_PLAIN = new Set('@ABCDEFGHIJKLMPSTXZ`abdefghlmrsu'.split('').map((c) => c.charCodeAt(0)));
/** CSI finals allowed after `?`: DEC private modes, selective erase, save/restore of modes. */
const CSI_QUESTION = new Set('hlrsJK'.split('').map((c) => c.charCodeAt(0)));
/** After `>`: modifyOtherKeys (m) and kitty keyboard push (u); after `<`/`=`: kitty pop/set. */
const CSI_GT = new Set('mu'.split('').map((c) => c.charCodeAt(0)));
const CSI_LT_EQ = new Set('u'.split('').map((c) => c.charCodeAt(0)));

const enum State {
  Ground,
  Esc,
  EscIntermediate,
  Csi,
  /** OSC / DCS / APC / PM / SOS: swallowed until its terminator. */
  Str,
  StrEsc,
}

export class OutputFilter {
  private state = State.Ground;
  private seq: number[] = [];
  /** Continuation bytes the current UTF-8 character still needs. */
  private utf8Need = 0;
  /** A 0xC2 lead byte held back: U+0080–U+009F (C1) follows it as 0x80–0x9F. */
  private heldC2 = false;
  /** In a string sequence, the last byte was 0xC2 (U+009C, ST, may follow). */
  private strC2 = false;
  /** text mode: a CR waits to see whether LF follows. */
  private heldCr = false;
  /** The payload of an OSC being kept (something is allowed), or undefined while one is swallowed. */
  private osc: number[] | undefined;
  private readonly allow: ReadonlySet<TerminalAllowance>;

  constructor(
    private readonly mode: OutputFilterMode = 'terminal',
    allow: Iterable<TerminalAllowance> = [],
  ) {
    this.allow = new Set(mode === 'terminal' ? allow : []);
  }

  push(data: Buffer): Buffer {
    // Never longer than 3 bytes per input byte (a stray byte becomes U+FFFD), plus a held
    // C2 and a sequence begun in an earlier chunk.
    const out = new Out(data.length * 3 + 4 + MAX_CSI_BYTES + 16);
    const plain = this.mode === 'terminal';
    for (let i = 0; i < data.length; i++) {
      const b = data[i]!;
      // The common case, printable ASCII on the ground, stays in this loop.
      if (plain && this.state === State.Ground && this.utf8Need === 0 && !this.heldC2 && b >= 0x20 && b < 0x7f) out.buf[out.n++] = b;
      else this.byte(b, out);
    }
    return out.buf.subarray(0, out.n);
  }

  /** Whether the stream ended inside an escape sequence (the client must not be left in it). */
  get midSequence(): boolean {
    return this.state !== State.Ground;
  }

  private byte(b: number, out: Out): void {
    // CAN and SUB cancel any sequence, everywhere.
    if ((b === 0x18 || b === 0x1a) && this.state !== State.Ground) {
      this.state = State.Ground;
      this.seq = [];
      this.osc = undefined;
      return;
    }
    switch (this.state) {
      case State.Ground:
        return this.ground(b, out);
      case State.Esc:
        return this.afterEsc(b, out);
      case State.EscIntermediate:
        return this.escIntermediate(b, out);
      case State.Csi:
        return this.csi(b, out);
      case State.Str:
        if (b === 0x07) this.endString(out);
        else if (b === ESC) this.state = State.StrEsc;
        // U+009C (ST) in UTF-8 also ends it.
        else if (b === 0x9c && this.strC2) {
          this.osc?.pop();
          this.endString(out);
        } else if (this.osc) {
          if (this.osc.length < CLIPBOARD_MAX + 16) this.osc.push(b);
          else this.osc = undefined;
        }
        this.strC2 = b === 0xc2;
        return;
      case State.StrEsc:
        // ESC \ ends it; any other ESC x starts over inside the string (a new ESC may follow).
        if (b === 0x5c) this.endString(out);
        else {
          this.state = b === ESC ? State.StrEsc : State.Str;
          // An escape inside an allowed payload: not a title, clipboard or notification.
          this.osc = undefined;
        }
        return;
    }
  }

  private ground(b: number, out: Out): void {
    if (this.heldC2) {
      this.heldC2 = false;
      if (b >= 0x80 && b <= 0x9f) {
        // U+0080–U+009F: a C1 control in UTF-8. Never forwarded; read as a terminal that
        // honours C1 would read it, so that what it introduces is filtered too.
        this.utf8Need = 0;
        if (b === 0x9b) {
          this.state = State.Csi;
          this.seq = [ESC, 0x5b];
        } else if (b === 0x90 || b === 0x98 || b === 0x9d || b === 0x9e || b === 0x9f) {
          this.startString(b === 0x9d);
        }
        return;
      }
      out.push(0xc2);
    }
    if (b >= 0x80) return this.highByte(b, out);
    if (this.utf8Need > 0) {
      // A character cut short: the terminal shows U+FFFD; say so, then read this byte anew.
      this.utf8Need = 0;
      out.push(0xef, 0xbf, 0xbd);
    }
    if (b === ESC) {
      this.state = State.Esc;
      this.seq = [ESC];
      return;
    }
    if (this.mode === 'text') return this.textByte(b, out);
    if (b >= 0x20 && b !== 0x7f) {
      out.push(b);
      return;
    }
    // C0: only the ones that move the cursor, ring, or shift the charset (SO/SI).
    if (b === 0x07 || (b >= 0x08 && b <= 0x0f)) out.push(b);
  }

  private highByte(b: number, out: Out): void {
    if (b >= 0x80 && b <= 0xbf) {
      if (this.utf8Need > 0) {
        this.utf8Need--;
        this.flushTextCr(out);
        out.push(b);
      }
      // A continuation byte with no lead: a raw C1 control or garbage. Dropped.
      return;
    }
    if (this.utf8Need > 0) out.push(0xef, 0xbf, 0xbd);
    this.flushTextCr(out);
    if (b === 0xc2) {
      this.heldC2 = true;
      this.utf8Need = 1;
      return;
    }
    if (b >= 0xc3 && b <= 0xdf) this.utf8Need = 1;
    else if (b >= 0xe0 && b <= 0xef) this.utf8Need = 2;
    else if (b >= 0xf0 && b <= 0xf4) this.utf8Need = 3;
    else {
      // 0xc0, 0xc1, 0xf5–0xff never start a character.
      this.utf8Need = 0;
      out.push(0xef, 0xbf, 0xbd);
      return;
    }
    out.push(b);
  }

  private textByte(b: number, out: Out): void {
    if (b === 0x0d) {
      this.flushTextCr(out);
      this.heldCr = true;
      return;
    }
    if (b === 0x0a) {
      this.heldCr = false;
      out.push(0x0a);
      return;
    }
    this.flushTextCr(out);
    if (b === 0x09 || (b >= 0x20 && b !== 0x7f)) out.push(b);
  }

  private flushTextCr(out: Out): void {
    if (!this.heldCr) return;
    this.heldCr = false;
    out.push(0x0a);
  }

  private startString(osc: boolean): void {
    this.state = State.Str;
    this.seq = [];
    this.strC2 = false;
    this.osc = osc && this.allow.size > 0 ? [] : undefined;
  }

  private endString(out: Out): void {
    this.state = State.Ground;
    const payload = this.osc;
    this.osc = undefined;
    if (!payload) return;
    const kept = allowedOsc(Buffer.from(payload).toString('utf8'), this.allow);
    if (kept !== undefined) out.append(Buffer.from(kept, 'utf8'));
  }

  private afterEsc(b: number, out: Out): void {
    if (b === 0x5b) {
      this.state = State.Csi;
      this.seq.push(b);
      return;
    }
    // ] P _ ^ X: OSC, DCS, APC, PM, SOS.
    if (b === 0x5d || b === 0x50 || b === 0x5f || b === 0x5e || b === 0x58) {
      this.startString(b === 0x5d);
      return;
    }
    if (b === ESC) {
      this.seq = [ESC];
      return;
    }
    if (b >= 0x20 && b <= 0x2f) {
      this.state = State.EscIntermediate;
      this.seq.push(b);
      return;
    }
    this.state = State.Ground;
    this.seq = [];
    // ESC Z (DECID) is a device-attributes query.
    if (b >= 0x30 && b <= 0x7e && b !== 0x5a && this.mode === 'terminal') out.push(ESC, b);
  }

  private escIntermediate(b: number, out: Out): void {
    if (b >= 0x20 && b <= 0x2f) {
      if (this.seq.length < 8) this.seq.push(b);
      return;
    }
    const seq = this.seq;
    this.state = State.Ground;
    this.seq = [];
    // ESC ( B, ESC # 8, ESC % G, ...: charset and line designations.
    if (b >= 0x30 && b <= 0x7e && this.mode === 'terminal' && seq.length < 8) out.push(...seq, b);
  }

  private csi(b: number, out: Out): void {
    if (b >= 0x20 && b <= 0x3f) {
      this.seq.push(b);
      if (this.seq.length > MAX_CSI_BYTES) {
        // Too long to be a real control: swallow the rest as a string would be.
        this.startString(false);
      }
      return;
    }
    const seq = this.seq;
    this.state = State.Ground;
    this.seq = [];
    if (b < 0x40 || b > 0x7e) return;
    if (this.mode === 'terminal' && csiAllowed(seq, b)) out.push(...seq, b);
  }
}

/** A growing-free output buffer: push() sizes it for the worst case; an allowed OSC may grow it. */
class Out {
  buf: Buffer;
  n = 0;
  constructor(size: number) {
    this.buf = Buffer.allocUnsafe(size);
  }
  push(...bytes: number[]): void {
    for (const b of bytes) this.buf[this.n++] = b;
  }
  append(bytes: Buffer): void {
    if (this.n + bytes.length > this.buf.length) {
      const bigger = Buffer.allocUnsafe(this.n + bytes.length + 64);
      this.buf.copy(bigger, 0, 0, this.n);
      this.buf = bigger;
    }
    bytes.copy(this.buf, this.n);
    this.n += bytes.length;
  }
}

/** Printable text only: no C0 or C1 controls, DEL, or bidi controls; at most `max` code points. */
function sanitizeText(text: string, max: number): string {
  // eslint-disable-next-line no-control-regex
  return [...text.replace(/[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069\u061c]/g, '')].slice(0, max).join('');
}

const OSC_END = '\x1b\\';

/**
 * The re-encoded form of an allowed OSC (`Ps;Pt`), or undefined when it is not allowed
 * or not a well-formed write.
 */
export function allowedOsc(payload: string, allow: ReadonlySet<TerminalAllowance>): string | undefined {
  const semi = payload.indexOf(';');
  if (semi === -1) return undefined;
  const ps = payload.slice(0, semi);
  const pt = payload.slice(semi + 1);
  if ((ps === '0' || ps === '1' || ps === '2') && allow.has('title')) {
    return `\x1b]${ps};${sanitizeText(pt, TITLE_MAX)}${OSC_END}`;
  }
  if (ps === '52' && allow.has('clipboard')) {
    const m = /^([cps0-7]*);([A-Za-z0-9+/]*={0,2})$/.exec(pt);
    // A read (`?`) or anything that is not base64 data is dropped.
    if (!m || m[2]!.length > CLIPBOARD_MAX) return undefined;
    return `\x1b]52;${m[1] || 'c'};${m[2]}${OSC_END}`;
  }
  if (ps === '9' && allow.has('notify')) {
    // `9;4;...` and other `9;N;` forms are ConEmu and Windows Terminal commands, not text.
    if (/^\d+;/.test(pt)) return undefined;
    const text = sanitizeText(pt, NOTIFY_MAX);
    return text ? `\x1b]9;${text}${OSC_END}` : undefined;
  }
  if (ps === '777' && allow.has('notify')) {
    const m = /^notify;([^;]*);(.*)$/s.exec(pt);
    if (!m) return undefined;
    return `\x1b]777;notify;${sanitizeText(m[1]!, TITLE_MAX)};${sanitizeText(m[2]!, NOTIFY_MAX)}${OSC_END}`;
  }
  return undefined;
}

/** `seq` is ESC [ then parameter and intermediate bytes; `final` ends it. */
function csiAllowed(seq: number[], final: number): boolean {
  const body = seq.slice(2);
  const prefix = body.length > 0 && body[0]! >= 0x3c && body[0]! <= 0x3f ? body[0]! : 0;
  const rest = prefix ? body.slice(1) : body;
  // Parameters are digits, ; and : only; then intermediates.
  let i = 0;
  while (i < rest.length && rest[i]! >= 0x30 && rest[i]! <= 0x3b) i++;
  const intermediates = rest.slice(i);
  if (intermediates.some((c) => c < 0x20 || c > 0x2f)) return false;
  const inter = String.fromCharCode(...intermediates);
  if (inter === ' ') return prefix === 0 && final === 0x71; // DECSCUSR: cursor style
  if (inter === '!') return prefix === 0 && final === 0x70; // DECSTR: soft reset
  if (inter === '"') return prefix === 0 && final === 0x71; // DECSCA
  if (inter !== '') return false;
  if (prefix === 0) return CSI_PLAIN.has(final);
  if (prefix === 0x3f) return CSI_QUESTION.has(final);
  if (prefix === 0x3e) return CSI_GT.has(final);
  return CSI_LT_EQ.has(final);
}

/**
 * Written to the person's terminal when attach ends: whatever modes the agent left it in,
 * it gets back the state a shell expects. Cancels a sequence in progress (CAN), leaves
 * the alternate screen that attach entered, turns off mouse tracking, focus events,
 * bracketed paste, synchronized output and kitty keyboard flags, resets the charset, the
 * scroll region, origin and insert modes, keypad and cursor keys, shows the cursor with
 * its default style, turns autowrap back on and resets colours.
 */
export const TERMINAL_RESTORE =
  '\x18\x1b[?2026l\x1b[0m\x1b[r\x1b[?6l\x1b[4l\x1b[?7h\x1b[?25h\x1b[0 q' +
  '\x1b[?1000l\x1b[?1001l\x1b[?1002l\x1b[?1003l\x1b[?1005l\x1b[?1006l\x1b[?1015l\x1b[?1016l\x1b[?1004l\x1b[?2004l' +
  '\x1b[?1l\x1b>\x1b[<u\x0f\x1b(B\x1b)B' +
  '\x1b[?1049l';

/** Entered by attach before the agent's screen is drawn, so that detach gives the user's scrollback back. */
export const TERMINAL_ENTER = '\x1b[?1049h';
