import { isAbsolute, relative } from 'node:path';

/** True when `inner` is `outer` or lies beneath it (both absolute). */
export function isWithin(inner: string, outer: string): boolean {
  const rel = relative(outer, inner);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}
