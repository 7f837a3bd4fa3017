import { forgetProbeCache, probeCacheKey, probeCachePath, readProbeCache, writeProbeCache } from '../probe-cache-file.js';
import type { NativeFacts } from './native-addon.js';

/**
 * The addon's answer about this machine (Landlock ABI, user namespaces, seccomp), kept
 * between runs (src/backends/probe-cache-file.ts): loading the addon and its user-namespace
 * probe cost ~3–4 ms of every `celistra run`. Keyed by the addon build. A stale answer
 * cannot weaken the fence: celistra-exec asks the kernel for the ABI itself and fails
 * closed if unshare fails, and then drops this entry (--probe-cache).
 */
const NAME = 'landlock';

/** Where the answer is kept (celistra-exec drops it too when it cannot build the fence: --probe-cache). */
export function landlockProbeCachePath(): string {
  return probeCachePath(NAME);
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

/** The cached answer for this addon build, or undefined (then the caller probes and calls cacheFacts). */
export function cachedFacts(addonPath: string): NativeFacts | undefined {
  const key = probeCacheKey([addonPath]);
  return key === undefined ? undefined : readProbeCache(NAME, key, isNativeFacts);
}

export function cacheFacts(addonPath: string, facts: NativeFacts): void {
  const key = probeCacheKey([addonPath]);
  if (key !== undefined) writeProbeCache(NAME, key, facts);
}

/** Drop the cached answer (a run whose helper could not set up the fence, or `doctor`); never throws. */
export function forgetLandlockProbe(): void {
  forgetProbeCache(NAME);
}
