import { closeSync, fstatSync, openSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { celistraPaths } from '../../core/paths.js';
import type { NativeFacts } from './native-addon.js';

/**
 * The addon's answer about this machine, kept between runs: loading the addon and its
 * user-namespace probe (a fork that tries unshare and mounts) cost ~3–4 ms of every
 * `celistra run`, and the answer changes only with the kernel or with the settings below.
 *
 * The cache is valid for one boot (the kernel's boot_id), one user, one build of the
 * addon, and one value of each sysctl that switches user namespaces on or off. It lives
 * in Celistra's runtime dir (0700, ours, gone at reboot), where fenced agents cannot
 * write. A stale answer cannot weaken the fence: the helper asks the kernel for the
 * Landlock ABI itself, and fails closed if unshare fails; `run` then drops the cache
 * (forgetLandlockProbe) so the next run probes afresh. `doctor` always probes afresh.
 */
const CACHE_FILE = 'landlock-probe.json';

/** Sysctls that decide whether unprivileged user namespaces work (missing ones read as absent). */
const USERNS_SWITCHES = ['/proc/sys/user/max_user_namespaces', '/proc/sys/kernel/unprivileged_userns_clone', '/proc/sys/kernel/apparmor_restrict_unprivileged_userns'];

interface CacheFile {
  key: string;
  facts: NativeFacts;
}

/** Where the answer is kept (celistra-exec drops it too when it cannot build the fence: --probe-cache). */
export function landlockProbeCachePath(): string {
  return cachePath();
}

function cachePath(): string {
  return join(celistraPaths().runtimeDir, CACHE_FILE);
}

function readOrAbsent(path: string): string {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return '-';
  }
}

/** Everything the probe's answer depends on; undefined when this machine cannot say (no boot_id). */
function cacheKey(addonPath: string): string | undefined {
  const boot = readOrAbsent('/proc/sys/kernel/random/boot_id');
  if (boot === '-') return undefined;
  let addon: string;
  try {
    const st = statSync(addonPath);
    addon = `${st.ino}:${st.size}:${Math.floor(st.mtimeMs)}`;
  } catch {
    return undefined;
  }
  const uid = `${process.getuid?.()}:${process.geteuid?.()}`;
  return [boot, uid, addon, ...USERNS_SWITCHES.map(readOrAbsent)].join('|');
}

/** The cached facts, if they were written by this user for this exact situation. */
function readCache(key: string): NativeFacts | undefined {
  let fd: number;
  try {
    fd = openSync(cachePath(), 'r');
  } catch {
    return undefined;
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile() || st.uid !== process.geteuid?.() || (st.mode & 0o022) !== 0) return undefined;
    const parsed = JSON.parse(readFileSync(fd, 'utf8')) as Partial<CacheFile>;
    if (parsed.key !== key || !isNativeFacts(parsed.facts)) return undefined;
    return parsed.facts;
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

function isNativeFacts(f: unknown): f is NativeFacts {
  const v = f as NativeFacts | undefined;
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof v.landlock?.kernelAbi === 'number' &&
    typeof v.landlock?.knownAbi === 'number' &&
    typeof v.userNamespaces === 'boolean' &&
    typeof v.seccomp === 'boolean' &&
    (v.userNamespacesError === undefined || typeof v.userNamespacesError === 'string')
  );
}

/** Never throws: without a writable runtime dir every run simply probes. */
function writeCache(key: string, facts: NativeFacts): void {
  try {
    const path = cachePath();
    const tmp = `${path}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify({ key, facts } satisfies CacheFile), { mode: 0o600 });
    renameSync(tmp, path);
  } catch {
    // No runtime dir yet, or it is read-only: nothing is lost but the next run's probe time.
  }
}

/** The cached answer for this addon build, or undefined (then the caller probes and calls cacheFacts). */
export function cachedFacts(addonPath: string): NativeFacts | undefined {
  const key = cacheKey(addonPath);
  return key === undefined ? undefined : readCache(key);
}

export function cacheFacts(addonPath: string, facts: NativeFacts): void {
  const key = cacheKey(addonPath);
  if (key !== undefined) writeCache(key, facts);
}

/** Drop the cached answer (a run whose helper could not set up the fence, or `doctor`); never throws. */
export function forgetLandlockProbe(): void {
  try {
    rmSync(cachePath(), { force: true });
  } catch {
    // Not ours to remove (a runtime dir we cannot write): the key still guards it.
  }
}
