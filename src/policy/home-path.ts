import { join } from 'node:path';
import { isNormalAbsolute } from './path-within.js';

/** `~` and `~/...` as paths under `home`; anything else unchanged. Presets and flags are written this way. */
export function expandHome(p: string, home: string): string {
  if (p === '~') return home;
  if (!p.startsWith('~/')) return p;
  // A run expands ~30 of these (the default read-denies, the presets): plain
  // concatenation when the result is already normal, path.join's walk otherwise.
  const joined = home + p.slice(1);
  return home.startsWith('/') && isNormalAbsolute(joined) ? joined : join(home, p.slice(2));
}
