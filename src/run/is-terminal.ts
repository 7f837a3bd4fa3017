import { fstatSync } from 'node:fs';
import { loadBuiltin } from '../lazy/builtin.js';

const LINUX_MEM_MAJOR = 1;

/**
 * Not process.stdin.isTTY, and node:tty only when it can matter: both build on Node's net
 * and stream modules (~3 ms), which a run with piped or redirected stdio never needs.
 */
export function isTerminal(fd: number): boolean {
  try {
    const st = fstatSync(fd);
    if (!st.isCharacterDevice()) return false;
    // Linux's memory devices (/dev/null, /dev/zero, ...: major 1) are never terminals;
    // scripts and CI often run with stdin from /dev/null.
    if (process.platform === 'linux' && Math.floor(st.rdev / 256) % 4096 === LINUX_MEM_MAJOR) return false;
  } catch {
    return false;
  }
  const tty = loadBuiltin<typeof import('node:tty')>('node:tty');
  return tty.isatty(fd);
}
