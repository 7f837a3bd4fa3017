/**
 * Seatbelt (macOS) sandbox violations, as `log stream --style ndjson --predicate
 * 'sender == "Sandbox"'` prints them: one JSON object per line whose `eventMessage` is
 *
 *   Sandbox: <process>(<pid>) deny(<n>) <operation> [<target>]
 *   Sandbox: <n> duplicate reports for <process> deny(<n>) <operation> [<target>]
 *
 * The second form is the kernel's own rate limiting of repeats. Written from the
 * documented message shape and untested on a real Mac (none here); no collector runs it yet.
 */

export interface SeatbeltViolation {
  /** ms since the epoch, from the entry's timestamp; undefined when it cannot be read. */
  ts?: number;
  process: string;
  /** Absent in duplicate reports, which name only the process. */
  pid?: number;
  /** The sandbox operation refused, e.g. `file-write-create`, `network-outbound`, `mach-lookup`. */
  operation: string;
  /** The path, address or service name the operation was about. */
  target?: string;
  /** How many refusals this line stands for (duplicate reports fold several). */
  count: number;
}

const VIOLATION = /^Sandbox: (.+)\((\d+)\) deny\(\d+\) (\S+)(?: (.*))?$/;
const DUPLICATES = /^Sandbox: (\d+) duplicate reports? for (.+) deny\(\d+\) (\S+)(?: (.*))?$/;

export function parseSeatbeltLogLine(line: string): SeatbeltViolation | undefined {
  let entry: unknown;
  try {
    entry = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof entry !== 'object' || entry === null) return undefined;
  const { eventMessage, timestamp } = entry as { eventMessage?: unknown; timestamp?: unknown };
  if (typeof eventMessage !== 'string') return undefined;
  const message = eventMessage.trim();
  const ts = typeof timestamp === 'string' ? logTimestamp(timestamp) : undefined;

  const v = VIOLATION.exec(message);
  if (v) return withOptional({ process: v[1]!, pid: Number(v[2]), operation: v[3]!, count: 1 }, ts, v[4]);
  const d = DUPLICATES.exec(message);
  if (d) return withOptional({ process: d[2]!, operation: d[3]!, count: Number(d[1]) }, ts, d[4]);
  return undefined;
}

function withOptional(v: SeatbeltViolation, ts: number | undefined, target: string | undefined): SeatbeltViolation {
  if (ts !== undefined) v.ts = ts;
  if (target !== undefined && target !== '') v.target = target;
  return v;
}

/** `log`'s "2024-05-02 10:11:12.345678-0700": microseconds and a zone offset without a colon. */
function logTimestamp(s: string): number | undefined {
  const m = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2})(\.\d+)?([+-]\d{2})(\d{2})$/.exec(s);
  if (!m) return undefined;
  const fraction = m[3] ? m[3].slice(0, 4) : '';
  const ms = Date.parse(`${m[1]}T${m[2]}${fraction}${m[4]}:${m[5]}`);
  return Number.isNaN(ms) ? undefined : ms;
}
