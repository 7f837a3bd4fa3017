/** A POSIX shell single-quoted word. */
export function sh(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** A string literal valid in both JavaScript and Python (JSON's escapes are a common subset). */
export function lit(s: string): string {
  return JSON.stringify(s);
}
