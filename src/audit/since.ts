const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/**
 * `--since` as a user writes it: a span back from now (`30m`, `24h`, `7d`, `2w`,
 * `45s`) or an ISO date/time (`2026-11-20`, `2026-11-20T14:00Z`). Returns ms since the
 * epoch, or undefined when the text is neither.
 */
export function parseSince(text: string, now: number): number | undefined {
  const span = /^(\d+)\s*([smhdw])$/.exec(text.trim());
  if (span) return now - Number(span[1]) * UNIT_MS[span[2]!]!;
  if (!/^\d{4}-\d{2}-\d{2}/.test(text.trim())) return undefined;
  const t = Date.parse(text.trim());
  return Number.isNaN(t) ? undefined : t;
}
