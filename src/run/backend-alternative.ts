import type { BackendName, Capabilities } from '../backends/backend.js';

/** The system each sandbox backend exists on: another system's is never an alternative. */
const SYSTEM_OF: Partial<Record<BackendName, NodeJS.Platform>> = { landlock: 'linux', bwrap: 'linux', seatbelt: 'darwin' };

/**
 * A backend's fix, completed with what this machine offers instead: "or use --backend
 * bwrap" only where bwrap is usable (its probe, as `celistra doctor` shows it), and where
 * no other backend of this system is, why not, so the hint never names a way out that
 * fails in turn. A backend's own fix names only what to change for it (kernel, sysctl,
 * build); the other backends are the selection's to name.
 */
export function fixWithAlternative(failed: BackendName, fix: string | undefined, probed: Capabilities[], system: NodeJS.Platform = process.platform): string | undefined {
  // A backend of another system (seatbelt on Linux) says so in its own fix already.
  if (SYSTEM_OF[failed] !== system) return fix;
  const others = probed.filter((c) => c.backend !== failed && SYSTEM_OF[c.backend] === system);
  const usable = others.filter((c) => c.available).map((c) => `--backend ${c.backend}`);
  const addition = usable.length
    ? `or use ${usable.join(' or ')}`
    : others.map((c) => `${c.backend} is not usable here either: ${c.unavailableReason ?? 'unavailable'}`).join('; ');
  if (!addition) return fix;
  return fix ? `${fix}; ${addition}` : addition;
}
