/**
 * A duration as people read it in a table: `42s`, `3m05s`, `5h07m`, `3d4h`. Shared by the
 * CLI (`ctl ls`, `approvals`, `daemon status`) and the dashboard's page, so it imports
 * nothing.
 */
export function formatDuration(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h${String(m % 60).padStart(2, '0')}m`;
  return `${Math.floor(h / 24)}d${h % 24}h`;
}
