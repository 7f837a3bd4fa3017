import { accessSync, constants, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { cacheFacts, cachedFacts } from './probe-cache.js';

/** What the addon (native/src/addon.cc) reports about this machine. */
export interface NativeFacts {
  landlock: { kernelAbi: number; knownAbi: number };
  userNamespaces: boolean;
  userNamespacesError?: string;
  seccomp: boolean;
}

interface NativeAddon {
  probe(): NativeFacts;
  execReplacing(file: string, argv: string[], env: string[], cwd: string): never;
  pipe(): [number, number];
  pipeUnread(fd: number): number;
  becomeSubreaper(): void;
  endOrphans(budgetMs?: number): number;
  emptyStdin(): void;
}

/** Hands this process over to `file` (exec-replace.c: `file` starts in a child, this
 * process becomes `file --wait-for <child>`); only returns by throwing. */
export type ExecReplacing = (file: string, argv: string[], env: string[], cwd: string) => never;

/** Where node-gyp puts both targets (see native/binding.gyp). */
export interface NativeBuild {
  addonPath: string;
  helperPath: string;
}

/** The package root: the nearest ancestor holding both package.json and native/. */
function packageRoot(): string {
  // import.meta.dirname, not a URL conversion: node:url's first pathToFileURL costs ~0.5 ms
  // of a `run` (the bundle maps it to its __dirname, scripts/bundle.js).
  let dir = import.meta.dirname;
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'native'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) return import.meta.dirname;
    dir = parent;
  }
}

// Found once per process: the walk up (a stat per level) is ~0.2 ms, and a run asks twice
// (the probe, then the exec).
let build: NativeBuild | undefined;

export function nativeBuild(): NativeBuild {
  if (!build) {
    const release = join(packageRoot(), 'native', 'build', 'Release');
    build = { addonPath: join(release, 'celistra_native.node'), helperPath: join(release, 'celistra-exec') };
  }
  return build;
}

export type NativeLoad = { ok: true; facts: NativeFacts; build: NativeBuild } | { ok: false; reason: string; build: NativeBuild };

/**
 * The addon's exec, or undefined when the addon cannot be loaded (then the run spawns).
 * Loaded with process.dlopen, not require(): the path is ours already (nativeBuild), and
 * require's resolution (stat, realpath of each path component, package scope lookups)
 * cost ~1 ms of every run, more than the dlopen itself. Loading the addon a second time
 * (the probe required it when its cache was cold) is fine: it is an N-API module, and
 * Node finds it by its napi_register_module_v1 symbol again.
 */
export function loadExecReplacing(): ExecReplacing | undefined {
  if (process.platform !== 'linux') return undefined;
  let addon: Partial<NativeAddon>;
  try {
    addon = dlopenAddon(nativeBuild().addonPath);
  } catch {
    return undefined;
  }
  return typeof addon.execReplacing === 'function' ? addon.execReplacing : undefined;
}

/** The addon's pipe2(O_CLOEXEC) ([read, write]), or undefined when the addon cannot be loaded. */
export function loadPipeMaker(): (() => [number, number]) | undefined {
  return addonFunction('pipe');
}

/** The addon's FIONREAD of a pipe (bytes its reader has not taken yet), or undefined. */
export function loadPipeUnread(): ((fd: number) => number) | undefined {
  return addonFunction('pipeUnread');
}

/** The addon's PR_SET_CHILD_SUBREAPER and its ending of adopted orphans (run/orphans.ts), or undefined. */
export function loadOrphanReaper(): { becomeSubreaper: () => void; endOrphans: (budgetMs?: number) => number } | undefined {
  const becomeSubreaper = addonFunction('becomeSubreaper');
  const endOrphans = addonFunction('endOrphans');
  return becomeSubreaper && endOrphans ? { becomeSubreaper, endOrphans } : undefined;
}

/** The addon's emptyStdin (descriptor 0 becomes a pipe at end of file), or undefined. */
export function loadEmptyStdin(): (() => void) | undefined {
  return addonFunction('emptyStdin');
}

function addonFunction<K extends 'pipe' | 'pipeUnread' | 'becomeSubreaper' | 'endOrphans' | 'emptyStdin'>(name: K): NativeAddon[K] | undefined {
  if (process.platform !== 'linux') return undefined;
  try {
    const fn = dlopenAddon(nativeBuild().addonPath)[name];
    return typeof fn === 'function' ? fn : undefined;
  } catch {
    return undefined;
  }
}

function dlopenAddon(path: string): Partial<NativeAddon> {
  const addon: { exports: Partial<NativeAddon> } = { exports: {} };
  process.dlopen(addon, path);
  return addon.exports;
}

/**
 * Load the addon and ask it what the kernel offers. The namespace probe forks once, so
 * callers keep the answer; with `cache`, it is also kept between runs (probe-cache.ts).
 */
export function loadNativeFacts(opts: { cache?: boolean } = {}): NativeLoad {
  const build = nativeBuild();
  if (process.platform !== 'linux') return { ok: false, reason: `Landlock is Linux-only (this is ${process.platform})`, build };
  if (!existsSync(build.addonPath)) return { ok: false, reason: `the native addon is not built (${build.addonPath} missing)`, build };
  try {
    accessSync(build.helperPath, constants.X_OK);
  } catch {
    return { ok: false, reason: `the exec helper is not built (${build.helperPath} missing or not executable)`, build };
  }
  const known = opts.cache ? cachedFacts(build.addonPath) : undefined;
  if (known) return { ok: true, facts: known, build };
  try {
    const addon = dlopenAddon(build.addonPath) as NativeAddon;
    const facts = addon.probe();
    if (opts.cache) cacheFacts(build.addonPath, facts);
    return { ok: true, facts, build };
  } catch (e) {
    return { ok: false, reason: `the native addon failed to load: ${(e as Error).message}`, build };
  }
}
