import type { AuditRow } from './events.js';

const MAX_SUMMARY = 160;

/** One human line per event, for `celistra history` and the dashboard's list. */
export function describeEvent(row: AuditRow): string {
  const d = row.data;
  const text = (() => {
    switch (row.type) {
      case 'spawn':
      case 'unsandboxed':
        return join([commandOf(d.command), field('in', d.workspace), field('branch', d.branch), field('via', d.backend), d.env !== undefined ? `${countOf(d.env)} env vars` : undefined]);
      case 'exit':
        return join([d.signal ? `signal ${String(d.signal)}` : d.code !== undefined ? `code ${String(d.code)}` : undefined, typeof d.durationMs === 'number' ? `after ${seconds(d.durationMs)}` : undefined]);
      case 'restart':
        return join([field('attempt', d.attempt), d.reason !== undefined ? `(${String(d.reason)})` : undefined, typeof d.delayMs === 'number' ? `after ${seconds(d.delayMs)}` : undefined]);
      case 'crashed-out':
        return join([field('', d.reason), typeof d.crashes === 'number' ? `after ${d.crashes} crashes` : undefined]);
      case 'daemon-start':
      case 'daemon-stop':
        return join([field('pid', d.pid), field('version', d.version)]);
      case 'kill':
        return join([field('signal', d.signal), field('by', d.by)]);
      case 'attach':
      case 'detach':
        return join([field('client', d.client)]);
      case 'prune':
        return `removed ${String(d.count)} rows (#${String(d.fromId)}..#${String(d.toId)}) older than ${typeof d.cutoff === 'number' ? new Date(d.cutoff).toISOString() : '?'}`;
      case 'denial':
        return join([field('', d.operation), field('', d.path), d.backend !== undefined ? `(${String(d.backend)})` : undefined]);
      case 'recovery':
        return `unreadable database moved to ${String(d.movedTo)} (${String(d.reason)})`;
      case 'loss':
        return `${String(d.dropped)} events dropped: ${String(d.reason)}`;
      default:
        return undefined;
    }
  })();
  const line = text || compactJson(d);
  return line.length > MAX_SUMMARY ? `${line.slice(0, MAX_SUMMARY - 1)}…` : line;
}

function commandOf(v: unknown): string | undefined {
  if (Array.isArray(v)) return v.map((a) => (/^[\w@%+=:,./-]+$/.test(String(a)) ? String(a) : JSON.stringify(String(a)))).join(' ');
  return v === undefined ? undefined : String(v);
}

function field(label: string, v: unknown): string | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  return label ? `${label} ${String(v)}` : String(v);
}

function countOf(v: unknown): number {
  return Array.isArray(v) ? v.length : 0;
}

function seconds(ms: number): string {
  return ms < 1000 ? `${ms}ms` : `${(ms / 1000).toFixed(1)}s`;
}

function join(parts: (string | undefined)[]): string {
  return parts.filter((p) => p !== undefined).join(' ');
}

function compactJson(d: Record<string, unknown>): string {
  const s = JSON.stringify(d);
  return s === '{}' ? '' : s;
}
