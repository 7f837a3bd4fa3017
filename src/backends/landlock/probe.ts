import { loadNativeFacts, type NativeLoad } from './native-addon.js';
import { KNOWN_ABI, minimumAbi } from './abi.js';

/**
 * Degraded machines, simulated for tests: they may only take capabilities away, and
 * the backend then refuses what it cannot hold; it never runs with less than it plans.
 *   CELISTRA_LANDLOCK_FORCE_ABI=N   treat the kernel as offering at most ABI N (0 = none)
 *   CELISTRA_FORCE_NO_USERNS=1      treat user namespaces as unavailable
 */
export const FORCE_ABI_ENV = 'CELISTRA_LANDLOCK_FORCE_ABI';
export const FORCE_NO_USERNS_ENV = 'CELISTRA_FORCE_NO_USERNS';

/** What the Landlock backend can do on this machine, after any forcing. */
export interface LandlockFacts {
  /** Addon and helper built and loadable. */
  built: boolean;
  buildProblem?: string;
  helperPath: string;
  kernelAbi: number;
  /** The ABI the helper will use: min(kernel, known, forced). 0 = no Landlock. */
  abi: number;
  /** Set when a test forced a lower ABI; passed to the helper as --abi-cap. */
  forcedAbi?: number;
  userNamespaces: boolean;
  userNamespacesProblem?: string;
  seccomp: boolean;
  /** Problems with the forcing variables themselves (fail closed: unavailable). */
  forceProblem?: string;
}

let cached: NativeLoad | undefined;

function nativeLoad(): NativeLoad {
  cached ??= loadNativeFacts({ cache: true });
  return cached;
}

function parseForcedAbi(env: NodeJS.ProcessEnv): { value?: number; problem?: string } {
  const raw = env[FORCE_ABI_ENV];
  if (raw === undefined || raw === '') return {};
  if (!/^\d+$/.test(raw)) return { problem: `${FORCE_ABI_ENV}=${raw} is not a number` };
  return { value: Number(raw) };
}

export function landlockFacts(env: NodeJS.ProcessEnv = process.env): LandlockFacts {
  const load = nativeLoad();
  const forced = parseForcedAbi(env);
  const noUserns = env[FORCE_NO_USERNS_ENV] === '1';
  if (!load.ok) {
    return { built: false, buildProblem: load.reason, helperPath: load.build.helperPath, kernelAbi: 0, abi: 0, userNamespaces: false, seccomp: false, forceProblem: forced.problem };
  }
  const { facts } = load;
  let abi = Math.min(facts.landlock.kernelAbi, KNOWN_ABI);
  if (forced.value !== undefined && forced.value < abi) abi = forced.value;
  const out: LandlockFacts = {
    built: true,
    helperPath: load.build.helperPath,
    kernelAbi: facts.landlock.kernelAbi,
    abi,
    userNamespaces: facts.userNamespaces && !noUserns,
    seccomp: facts.seccomp,
  };
  if (forced.value !== undefined) out.forcedAbi = forced.value;
  if (forced.problem) out.forceProblem = forced.problem;
  if (noUserns) out.userNamespacesProblem = `disabled by ${FORCE_NO_USERNS_ENV}=1`;
  else if (!facts.userNamespaces) out.userNamespacesProblem = facts.userNamespacesError ?? 'unavailable';
  return out;
}

/** Why the backend cannot run at all here, with the fix; undefined when it can. */
export function unavailability(f: LandlockFacts): { reason: string; fix: string } | undefined {
  if (f.forceProblem) return { reason: f.forceProblem, fix: `unset ${FORCE_ABI_ENV} or give it a number` };
  if (!f.built) {
    return {
      reason: f.buildProblem ?? 'the native addon is not built',
      fix: 'install a C/C++ toolchain (Debian: apt-get install -y build-essential python3) and run `npm rebuild celistra`',
    };
  }
  if (f.abi === 0) {
    return {
      reason: f.forcedAbi === 0 ? `Landlock disabled by ${FORCE_ABI_ENV}=0` : 'this kernel has no Landlock (needs Linux 5.13+ with landlock in the lsm= boot list)',
      fix: 'boot a kernel with Landlock enabled',
    };
  }
  const min = minimumAbi(f.userNamespaces);
  if (f.abi < min) {
    return {
      reason: `Landlock ABI ${f.abi} without user namespaces cannot stop truncate(2) outside the workspace (needs ABI ${min}, Linux 6.2+)${f.userNamespacesProblem ? `; user namespaces: ${f.userNamespacesProblem}` : ''}`,
      fix: 'enable unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1; on Ubuntu 24.04 allow them in AppArmor), or upgrade the kernel',
    };
  }
  return undefined;
}
