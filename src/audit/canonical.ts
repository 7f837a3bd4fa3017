/**
 * The canonical JSON form that the hash chain is computed over. It must never change
 * for a given value, on any machine or Node version, or old chains stop verifying:
 *
 * - objects: keys sorted by UTF-16 code units (JavaScript's default sort), written
 *   `{"k":v,...}` with no whitespace; keys whose value is undefined, a function or a
 *   symbol are left out;
 * - arrays: in order; undefined, functions and symbols become `null`;
 * - strings: as JSON.stringify writes them;
 * - numbers: as JSON.stringify writes them; NaN and ±Infinity become `null`;
 * - bigint: its decimal digits as a string; an object with toJSON (Date, Buffer): its
 *   toJSON() result, canonicalised;
 * - a value that contains itself is written as the string "[circular]".
 */
export function canonicalJson(value: unknown): string {
  return write(value, new Set());
}

function write(value: unknown, ancestors: Set<object>): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
      return Number.isFinite(value) ? JSON.stringify(value) : 'null';
    case 'boolean':
      return value ? 'true' : 'false';
    case 'bigint':
      return JSON.stringify(value.toString());
    case 'object':
      break;
    default:
      return 'null';
  }
  const obj = value as object;
  if (ancestors.has(obj)) return '"[circular]"';
  const withJson = obj as { toJSON?: () => unknown };
  if (typeof withJson.toJSON === 'function') return write(withJson.toJSON(), ancestors);
  ancestors.add(obj);
  try {
    if (Array.isArray(obj)) {
      return `[${obj.map((v) => (isOmitted(v) ? 'null' : write(v, ancestors))).join(',')}]`;
    }
    const record = obj as Record<string, unknown>;
    const parts: string[] = [];
    for (const key of Object.keys(record).sort()) {
      const v = record[key];
      if (isOmitted(v)) continue;
      parts.push(`${JSON.stringify(key)}:${write(v, ancestors)}`);
    }
    return `{${parts.join(',')}}`;
  } finally {
    ancestors.delete(obj);
  }
}

function isOmitted(v: unknown): boolean {
  return v === undefined || typeof v === 'function' || typeof v === 'symbol';
}
