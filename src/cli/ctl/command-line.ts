import { CelistraError } from '../../policy/errors.js';

const SHELL_ONLY = new Set(['|', '&', ';', '<', '>', '(', ')', '$', '`', '*', '?', '[', '{', '~']);

/**
 * Split the single-string command form (`ctl spawn ... 'claude --print "hi there"'`)
 * the way a shell splits words: whitespace separates, '…' is literal, "…" allows \" \\ \$ \`,
 * a backslash escapes the next character. Nothing else a shell does (variables, globs,
 * pipes, redirections) happens here, so an unquoted character that would need a shell
 * is refused rather than passed on literally.
 */
export function splitCommandLine(line: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let i = 0;
  const fail = (msg: string): never => {
    throw new CelistraError('E_USAGE', `cannot split the command ${JSON.stringify(line)}: ${msg}`, "for shell features use: celistra ctl spawn ... -- sh -c '...'");
  };
  while (i < line.length) {
    const c = line[i]!;
    if (c === ' ' || c === '\t' || c === '\n') {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
      i++;
    } else if (c === "'") {
      const end = line.indexOf("'", i + 1);
      if (end === -1) fail('unterminated single quote');
      word += line.slice(i + 1, end);
      inWord = true;
      i = end + 1;
    } else if (c === '"') {
      inWord = true;
      i++;
      for (;;) {
        if (i >= line.length) fail('unterminated double quote');
        const d = line[i]!;
        if (d === '"') {
          i++;
          break;
        }
        if (d === '\\' && i + 1 < line.length && '"\\$`'.includes(line[i + 1]!)) {
          word += line[i + 1];
          i += 2;
        } else if (d === '$' || d === '`') {
          fail(`"${d}" inside double quotes needs a shell`);
        } else {
          word += d;
          i++;
        }
      }
    } else if (c === '\\') {
      if (i + 1 >= line.length) fail('trailing backslash');
      word += line[i + 1];
      inWord = true;
      i += 2;
    } else if (SHELL_ONLY.has(c)) {
      fail(`unquoted "${c}" needs a shell`);
    } else {
      word += c;
      inWord = true;
      i++;
    }
  }
  if (inWord) words.push(word);
  if (words.length === 0) fail('it is empty');
  return words;
}
