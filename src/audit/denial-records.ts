/**
 * Lines of `celistra-audit read` (native/src/audit-reader.c): one kernel audit record
 * per line, "<type> audit(<sec>.<ms>:<serial>): key=value ...", plus the reader's own
 * "ready" and "overrun" lines.
 */

export const AUDIT_SYSCALL = 1300;
export const AUDIT_LANDLOCK_ACCESS = 1423;
export const AUDIT_LANDLOCK_DOMAIN = 1424;

export interface AuditRecord {
  type: number;
  /** The event's serial: the records of one event (access, domain, syscall) share it. */
  serial: number;
  /** The event's time, ms since the epoch. */
  ts: number;
  /** Field values, decoded (see UNTRUSTED_FIELDS). */
  fields: Record<string, string>;
}

export type ReaderLine = { kind: 'record'; record: AuditRecord } | { kind: 'ready' } | { kind: 'overrun' } | { kind: 'malformed'; line: string };

/**
 * Fields the kernel logs as untrusted strings: quoted when plain, or written as hex
 * when they hold a space, a quote or a control or non-ASCII byte (audit_log_untrustedstring).
 */
const UNTRUSTED_FIELDS = new Set(['path', 'dev', 'exe', 'comm', 'ocomm', 'name', 'proctitle']);

const RECORD_LINE = /^(\d+) audit\((\d+)\.(\d{3}):(\d+)\): ?(.*)$/;
const FIELD = /([A-Za-z_][A-Za-z0-9_]*)=("[^"]*"|\S*)/g;
const HEX = /^(?:[0-9A-F]{2})+$/;

export function parseReaderLine(line: string): ReaderLine {
  if (line === 'ready') return { kind: 'ready' };
  if (line === 'overrun') return { kind: 'overrun' };
  const m = RECORD_LINE.exec(line);
  if (!m) return { kind: 'malformed', line };
  const fields: Record<string, string> = {};
  for (const f of m[5]!.matchAll(FIELD)) fields[f[1]!] = decodeValue(f[1]!, f[2]!);
  return {
    kind: 'record',
    record: { type: Number(m[1]), serial: Number(m[4]), ts: Number(m[2]) * 1000 + Number(m[3]), fields },
  };
}

function decodeValue(key: string, raw: string): string {
  if (raw.length >= 2 && raw.startsWith('"') && raw.endsWith('"')) return raw.slice(1, -1);
  if (UNTRUSTED_FIELDS.has(key) && HEX.test(raw)) return Buffer.from(raw, 'hex').toString('utf8');
  return raw;
}
