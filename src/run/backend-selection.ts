import type { Backend, BackendName, LaunchPlan } from '../backends/backend.js';
import { CelistraError, isCelistraError } from '../policy/errors.js';
import type { Policy } from '../policy/policy.js';
import { landlockBackend } from '../backends/landlock/index.js';
import { bwrapBackend } from '../backends/bwrap/index.js';
import { seatbeltBackend } from '../backends/seatbelt/index.js';
import { noneBackend } from '../backends/none/index.js';
import { fixWithAlternative } from './backend-alternative.js';

export type BackendChoice = BackendName | 'auto';

/** Strongest first: the order `auto` tries them in. */
export const SANDBOX_BACKENDS: Backend[] = [landlockBackend, bwrapBackend, seatbeltBackend];

export function backendByName(name: BackendName): Backend {
  const b = [...SANDBOX_BACKENDS, noneBackend].find((x) => x.name === name);
  if (!b) throw new CelistraError('E_USAGE', `unknown backend "${name}"`, 'choose one of: auto, landlock, bwrap, seatbelt, none');
  return b;
}

export function parseBackendChoice(s: string | undefined): BackendChoice {
  const v = s ?? 'auto';
  if (v === 'auto' || v === 'landlock' || v === 'bwrap' || v === 'seatbelt' || v === 'none') return v;
  throw new CelistraError('E_USAGE', `unknown backend "${v}"`, 'choose one of: auto, landlock, bwrap, seatbelt, none');
}

/** The backend `auto` would pick on this machine, ignoring any particular policy. */
export function autoBackendName(): BackendName | undefined {
  return SANDBOX_BACKENDS.find((b) => b.probe().available)?.name;
}

/**
 * Plan a launch with the chosen backend. `auto` takes the first available backend
 * that can enforce this policy; never `none`. Refusals are collected so the final
 * error names what each backend lacked.
 */
export function planLaunch(choice: BackendChoice, policy: Policy, argv: string[], baseEnv: Record<string, string>): LaunchPlan {
  if (choice !== 'auto') {
    const backend = backendByName(choice);
    const caps = backend.probe();
    // The fix names another backend only where that one is usable here (backend-alternative.ts).
    const withAlternative = (fix: string | undefined) => fixWithAlternative(choice, fix, SANDBOX_BACKENDS.map((b) => b.probe()));
    if (!caps.available) {
      throw new CelistraError('E_NO_BACKEND', `backend ${choice} is not usable here: ${caps.unavailableReason ?? 'unknown reason'}`, withAlternative(caps.fix));
    }
    try {
      return backend.plan(policy, argv, baseEnv);
    } catch (e) {
      if (isCelistraError(e) && e.code === 'E_NO_BACKEND' && choice !== 'none') throw new CelistraError('E_NO_BACKEND', e.message, withAlternative(e.hint));
      throw e;
    }
  }
  const refusals: string[] = [];
  for (const backend of SANDBOX_BACKENDS) {
    const caps = backend.probe();
    if (!caps.available) {
      refusals.push(`${backend.name}: ${caps.unavailableReason ?? 'unavailable'}${caps.fix ? ` (fix: ${caps.fix})` : ''}`);
      continue;
    }
    try {
      return backend.plan(policy, argv, baseEnv);
    } catch (e) {
      if (isCelistraError(e) && e.code === 'E_NO_BACKEND') {
        refusals.push(`${backend.name}: ${e.message}${e.hint ? ` (fix: ${e.hint})` : ''}`);
        continue;
      }
      throw e;
    }
  }
  throw new CelistraError(
    'E_NO_BACKEND',
    `no sandbox backend can enforce this policy here:\n  ${refusals.join('\n  ')}`,
    'install bubblewrap (apt-get install -y bubblewrap) or use a kernel with Landlock; `celistra doctor` shows details. --backend none runs unsandboxed.',
  );
}
