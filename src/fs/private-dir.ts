import { chmodSync, lstatSync, mkdirSync } from 'node:fs';
import { CelistraError } from '../policy/errors.js';

/**
 * Create (or accept) a directory that only we can enter. Without XDG_RUNTIME_DIR,
 * Celistra's runtime dir sits in the shared /tmp, where another user could have made
 * it first to read or swap what we put there: refuse anything that is not a real
 * directory owned by us, and tighten its mode.
 */
export function ensurePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = lstatSync(dir);
  const uid = process.getuid?.();
  if (!st.isDirectory() || (uid !== undefined && st.uid !== uid)) {
    throw new CelistraError('E_CONFLICT', `${dir} is not a directory owned by you`, 'remove it, or set XDG_RUNTIME_DIR to a private directory');
  }
  if ((st.mode & 0o077) !== 0) chmodSync(dir, 0o700);
}
