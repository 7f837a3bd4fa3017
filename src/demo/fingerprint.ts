import { createHash } from 'node:crypto';
import { lstatSync, readFileSync } from 'node:fs';

/**
 * Everything about a file that an escaping write could change, read on the host. The
 * demo judges an escape attempt by this, never by what the agent says happened.
 */
export interface FileFingerprint {
  exists: boolean;
  size: number;
  mode: number;
  mtimeMs: number;
  sha256: string;
}

export function fingerprint(path: string): FileFingerprint {
  const st = lstatSync(path, { throwIfNoEntry: false });
  if (!st) return { exists: false, size: 0, mode: 0, mtimeMs: 0, sha256: '' };
  const sha256 = st.isFile() ? createHash('sha256').update(readFileSync(path)).digest('hex') : '';
  return { exists: true, size: st.size, mode: st.mode, mtimeMs: st.mtimeMs, sha256 };
}

export function sameFingerprint(a: FileFingerprint, b: FileFingerprint): boolean {
  return a.exists === b.exists && a.size === b.size && a.mode === b.mode && a.mtimeMs === b.mtimeMs && a.sha256 === b.sha256;
}
