/**
 * Text an agent controls (its last line of output, a denied path's name, an agent name
 * echoed in an error), made safe for a human-readable line (issue 19, class 4): C0 and C1
 * controls (U+0080–U+009F, however they were encoded), DEL, and the invisible characters
 * that reorder or hide text (bidi embeddings, overrides and isolates, marks, line and
 * paragraph separators, BOM) are shown as `\xNN` / `\uNNNN` escapes instead of acting on
 * the terminal. `--json` output never goes through this: it stays exact.
 */
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u202a-\u202e\u2028\u2029\u2060-\u2069\ufeff]/g;

export function printable(text: string): string {
  return text.replace(UNSAFE, (c) => {
    const n = c.charCodeAt(0);
    return n < 0x100 ? `\\x${n.toString(16).padStart(2, '0')}` : `\\u${n.toString(16).padStart(4, '0')}`;
  });
}
