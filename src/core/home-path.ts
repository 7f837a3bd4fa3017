import { join } from 'node:path';

/** `~` and `~/...` as paths under `home`; anything else unchanged. Presets and flags are written this way. */
export function expandHome(p: string, home: string): string {
  if (p === '~') return home;
  if (p.startsWith('~/')) return join(home, p.slice(2));
  return p;
}
