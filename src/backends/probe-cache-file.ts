import { closeSync, existsSync, fstatSync, openSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { celistraPaths } from '../policy/paths.js';

/**
 * A backend's probe answer kept between runs, in Celistra's runtime dir (0700, ours, gone
 * at reboot, never writable by a fenced agent). Probing costs more than the rest of a
 * `celistra run` (the Landlock addon forks to try a user namespace; bwrap runs a trial
 * sandbox), and the answer changes only with what the key covers: the boot (kernel
 * boot_id), the user, the files the backend runs (their inode, size and mtime), and each
 * sysctl that switches user namespaces on or off. A stale answer cannot weaken a fence:
 * the helpers fail closed when the kernel refuses; the caller then drops the entry.
 * `doctor` always probes afresh.
 */

/** Sysctls that decide whether unprivileged user namespaces work (missing ones read as absent). */
const USERNS_SWITCHES = ['/proc/sys/user/max_user_namespaces', '/proc/sys/kernel/unprivileged_userns_clone', '/proc/sys/kernel/apparmor_restrict_unprivileged_userns'];

export function probeCachePath(name: string): string {
  return join(celistraPaths().runtimeDir, `${name}-probe.json`);
}

function readOrAbsent(path: string): string {
  // Most machines lack one or two of the switches: an exception per missing file costs more than a stat.
  if (!existsSync(path)) return '-';
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return '-';
  }
}

/** The key for answers about these files on this boot for this user; undefined when the machine cannot say. */
export function probeCacheKey(files: string[]): string | undefined {
  const boot = readOrAbsent('/proc/sys/kernel/random/boot_id');
  if (boot === '-') return undefined;
  const stamps: string[] = [];
  for (const f of files) {
    try {
      const st = statSync(f);
      stamps.push(`${f}:${st.ino}:${st.size}:${Math.floor(st.mtimeMs)}`);
    } catch {
      return undefined;
    }
  }
  const uid = `${process.getuid?.()}:${process.geteuid?.()}`;
  return [boot, uid, ...stamps, ...USERNS_SWITCHES.map(readOrAbsent)].join('|');
}

/** The kept answer, if this user wrote it for exactly this key and it passes `valid`. */
export function readProbeCache<T>(name: string, key: string, valid: (v: unknown) => v is T): T | undefined {
  let fd: number;
  try {
    fd = openSync(probeCachePath(name), 'r');
  } catch {
    return undefined;
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile() || st.uid !== process.geteuid?.() || (st.mode & 0o022) !== 0) return undefined;
    const parsed = JSON.parse(readFileSync(fd, 'utf8')) as { key?: unknown; value?: unknown };
    return parsed.key === key && valid(parsed.value) ? parsed.value : undefined;
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/** Never throws: without a writable runtime dir every run simply probes. */
export function writeProbeCache(name: string, key: string, value: unknown): void {
  try {
    const path = probeCachePath(name);
    const tmp = `${path}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify({ key, value }), { mode: 0o600 });
    renameSync(tmp, path);
  } catch {
    // No runtime dir yet, or it is read-only: nothing is lost but the next run's probe time.
  }
}

/** Never throws. */
export function forgetProbeCache(name: string): void {
  try {
    rmSync(probeCachePath(name), { force: true });
  } catch {
    // Not ours to remove (a runtime dir we cannot write): the key still guards it.
  }
}
