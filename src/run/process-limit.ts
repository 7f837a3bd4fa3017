import { nativeBuild } from '../backends/landlock/native-addon.js';

/**
 * The native addon's `lowerProcessLimit(n)` (native/src/addon.cc): sets this process's
 * RLIMIT_NPROC, soft and hard, and returns the value set (never above the hard limit it
 * had). Undefined where the addon is not built or predates it: the caller then puts a
 * shell in front of the command instead (run/limits.ts).
 */
export type LowerProcessLimit = (n: number) => number;

export function loadLowerProcessLimit(): LowerProcessLimit | undefined {
  if (process.platform !== 'linux') return undefined;
  try {
    const addon: { exports: { lowerProcessLimit?: unknown } } = { exports: {} };
    process.dlopen(addon, nativeBuild().addonPath);
    return typeof addon.exports.lowerProcessLimit === 'function' ? (addon.exports.lowerProcessLimit as LowerProcessLimit) : undefined;
  } catch {
    return undefined;
  }
}
