/**
 * Lays citty's usage text out for the terminal it goes to. citty pads every row of its
 * two-column tables (OPTIONS, COMMANDS) to the longest description, so one long
 * description put hundreds of spaces at the end of every line, and a row longer than the
 * terminal broke wherever the terminal cut it. Here trailing padding is dropped and a
 * long row wraps at word boundaries, its continuation lines indented to its description
 * column. Colours are kept only for a terminal.
 */

const ANSI = /\x1b\[[0-9;]*m/g;
/** Width when stdout is not a terminal (a pipe, a file, a test). */
export const DEFAULT_HELP_WIDTH = 80;
/** Narrower than this, a description column would be a ragged strip: start it on its own lines. */
const MIN_DESCRIPTION_WIDTH = 30;
/** Where a description starts when it does not fit beside its flag. */
const FALLBACK_INDENT = 8;

export interface HelpLayout {
  width: number;
  color: boolean;
}

/** The layout for stdout: its width and colours when it is a terminal, 80 columns and plain text otherwise. */
export function stdoutHelpLayout(): HelpLayout {
  const tty = process.stdout.isTTY === true;
  return { width: tty && process.stdout.columns ? process.stdout.columns : DEFAULT_HELP_WIDTH, color: tty };
}

export function layoutHelp(text: string, layout: HelpLayout): string {
  const source = layout.color ? text : text.replace(ANSI, '');
  const lines = source.split('\n').flatMap((line) => wrapLine(line.trimEnd(), layout.width));
  return lines.join('\n').replace(/\n{3,}/g, '\n\n');
}

function visibleWidth(s: string): number {
  return s.replace(ANSI, '').length;
}

/**
 * A table row is `  NAME    DESCRIPTION` (citty joins its columns with four spaces, the
 * exit status list with two or more); its continuation lines start under DESCRIPTION.
 * Any other line continues under its own first character.
 */
function wrapLine(line: string, width: number): string[] {
  if (visibleWidth(line) <= width) return [line];
  const row = /^\s*\S+(?: \S+)* {2,}(?=\S)/.exec(line);
  const head = row ? row[0] : (/^\s*/.exec(line)?.[0] ?? '');
  const body = line.slice(head.length);
  const indent = visibleWidth(head);
  if (width - indent >= MIN_DESCRIPTION_WIDTH) return fill(body, width - indent).map((l, i) => (i === 0 ? head : ' '.repeat(indent)) + l);
  const pad = ' '.repeat(Math.min(indent, FALLBACK_INDENT));
  return [head.trimEnd(), ...fill(body, width - pad.length).map((l) => pad + l)];
}

/**
 * `text` in lines of at most `width` visible characters, broken at spaces; the spacing
 * within a line stays as it was (aligned columns stay aligned). A word longer than
 * `width` is broken after a `|` where it has one (`run|doctor|...`, the command list),
 * else gets a line of its own.
 */
function fill(text: string, width: number): string[] {
  const out: string[] = [];
  let current = '';
  const tokens = [...text.matchAll(/( *)(\S+)/g)].flatMap(([, space, word]) =>
    visibleWidth(word!) > width && word!.includes('|') ? word!.split(/(?<=\|)/).map((part, i) => [i === 0 ? space! : '', part] as const) : [[space!, word!] as const],
  );
  for (const [space, word] of tokens) {
    if (current && visibleWidth(current) + space.length + visibleWidth(word) > width) {
      out.push(current);
      current = word;
    } else {
      current += space + word;
    }
  }
  if (current) out.push(current);
  return out;
}
