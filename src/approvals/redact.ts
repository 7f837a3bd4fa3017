/**
 * What a person sees of a request's input: secrets an agent puts on a command line
 * (`TOKEN=... cmd`, `--password x`, `Authorization: Bearer ...`, key-shaped strings)
 * are replaced by `[redacted]`. The agent's own record of what it asked is not changed;
 * only the display, the push message and the audit event carry the redacted form.
 */
const PATTERNS: Array<[RegExp, string]> = [
  // NAME=value where the name says it is secret.
  [/\b([A-Z0-9_]*(?:TOKEN|SECRET|PASSWORD|PASSWD|API_?KEY|ACCESS_?KEY|PRIVATE_?KEY|CREDENTIALS?)[A-Z0-9_]*)=("[^"]*"|'[^']*'|\S+)/gi, '$1=[redacted]'],
  // --password x, --token=x, -p x is too ambiguous and left alone.
  [/(--?(?:password|passwd|token|secret|api-key|apikey|access-key)(?:=|\s+))("[^"]*"|'[^']*'|\S+)/gi, '$1[redacted]'],
  [/\b(Authorization:\s*(?:Bearer|Basic|token)\s+)\S+/gi, '$1[redacted]'],
  // Credentials inside URLs: scheme://user:pass@host.
  [/(\b[a-z][a-z0-9+.-]*:\/\/[^\s/:@]+:)[^\s/@]+@/gi, '$1[redacted]@'],
  // Well-known key shapes.
  [/\b(sk-(?:ant-)?[A-Za-z0-9_-]{16,}|gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}|AKIA[0-9A-Z]{16}|xox[abpr]-[A-Za-z0-9-]{10,}|glpat-[A-Za-z0-9_-]{20,})\b/g, '[redacted]'],
];

export function redactText(s: string): string {
  let out = s;
  for (const [re, by] of PATTERNS) out = out.replace(re, by);
  return out;
}

/** Every string in the input, redacted; keys whose name says secret lose their value whole. */
export function redactInput(input: unknown, depth = 0): unknown {
  if (typeof input === 'string') return redactText(input);
  if (depth > 8 || input === null || typeof input !== 'object') return input;
  if (Array.isArray(input)) return input.map((v) => redactInput(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(input as Record<string, unknown>)) {
    out[k] = /token|secret|password|passwd|api_?key|credential|authorization/i.test(k) ? '[redacted]' : redactInput(v, depth + 1);
  }
  return out;
}
