import { resolve } from 'node:path';
import { CelistraError } from './errors.js';
import { expandHome } from './home-path.js';
import { isWithin } from './path-within.js';

/**
 * Default read-denies no flag can lift: the user's own agent logins. The presets copy
 * them into each agent's own state dir, and count on no fenced agent ever being able to
 * write the original (a writable root inside a denied path is refused; a lifted one
 * would not be).
 */
const NEVER_LIFTED = ['~/.claude/.credentials.json', '~/.codex/auth.json'];

/**
 * The default read-denies (`defaults`, `~/` paths) that `--allow-read` lifts, expanded.
 * A path given must be a default deny or hold some (`~/.config` lifts `~/.config/gh` and
 * `~/.config/gcloud`); anything else is refused, so a typo never passes silently. A path
 * inside a default deny is refused too: a deny is lifted whole or not at all, as a mask
 * cannot be half lifted. Celistra's own dirs and the agents' state are denied apart from
 * these defaults and stay denied whatever is lifted.
 */
export function liftedDefaultDenies(allowRead: readonly string[], defaults: readonly string[], requestedDeny: readonly string[], home: string): Set<string> {
  const expandedDefaults = defaults.map((d) => expandHome(d, home));
  const never = NEVER_LIFTED.map((d) => expandHome(d, home));
  const denied = requestedDeny.map((d) => resolve(expandHome(d, home)));
  const lifted = new Set<string>();
  for (const given of allowRead) {
    const p = resolve(expandHome(given, home));
    const holder = expandedDefaults.find((d) => isWithin(p, d) && p !== d);
    if (holder !== undefined) {
      throw new CelistraError('E_POLICY', `--allow-read ${given}: it lies inside ${holder}, which is read-denied by default and lifted whole or not at all`, `pass --allow-read ${holder} to let the command read all of it`);
    }
    const covered = expandedDefaults.filter((d) => isWithin(d, p));
    if (covered.length === 0) {
      throw new CelistraError('E_POLICY', `--allow-read ${given}: nothing there is read-denied by default, so there is nothing to lift`, `the defaults are ${defaults.join(', ')}`);
    }
    const login = covered.find((d) => never.includes(d));
    if (login !== undefined) {
      throw new CelistraError('E_POLICY', `--allow-read ${given}: it would lift ${login}, your own agent login, which stays read-denied`, 'a fenced agent with --preset gets its own copy of it (docs/presets.md)');
    }
    const conflict = denied.find((d) => isWithin(d, p) || isWithin(p, d));
    if (conflict !== undefined) {
      throw new CelistraError('E_USAGE', `--allow-read ${given} and --deny-read ${conflict} contradict each other`, 'drop one of them');
    }
    for (const d of covered) lifted.add(d);
  }
  return lifted;
}
