/** The command after the first `--`; everything before it belongs to Celistra. */
export function commandAfterDashes(rawArgs: string[]): string[] {
  const i = rawArgs.indexOf('--');
  return i === -1 ? [] : rawArgs.slice(i + 1);
}

/**
 * Every value of a repeatable flag (`--allow-write a --allow-write=b`), read from the
 * raw arguments before `--`: citty keeps only the last occurrence.
 */
export function repeatedFlag(rawArgs: string[], name: string): string[] {
  const end = rawArgs.indexOf('--');
  const own = end === -1 ? rawArgs : rawArgs.slice(0, end);
  const values: string[] = [];
  for (let i = 0; i < own.length; i++) {
    const a = own[i]!;
    if (a === `--${name}` && i + 1 < own.length) values.push(own[++i]!);
    else if (a.startsWith(`--${name}=`)) values.push(a.slice(name.length + 3));
  }
  return values;
}

/**
 * citty accepts any flag; a typo such as `--alow-write` would silently widen nothing
 * and confuse. Refuse flags (before `--`) that the command does not define.
 */
export function unknownFlags(rawArgs: string[], defined: string[]): string[] {
  const end = rawArgs.indexOf('--');
  const own = end === -1 ? rawArgs : rawArgs.slice(0, end);
  const known = new Set(['help', 'h', ...defined, ...defined.map((d) => `no-${d}`)]);
  return own
    .filter((a) => a.startsWith('-') && a !== '-')
    .map((a) => a.replace(/^--?/, '').split('=')[0]!)
    .filter((name) => !known.has(name));
}
