import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';

/** Set to a path to use that bwrap; set to a missing path to simulate a machine without it. */
export const BWRAP_OVERRIDE_ENV = 'CELISTRA_BWRAP';

export type BwrapLocation = { found: true; path: string; via: 'PATH' | typeof BWRAP_OVERRIDE_ENV } | { found: false; searched: string };

function isExecutableFile(p: string): boolean {
  try {
    accessSync(p, constants.X_OK);
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

/** Find bwrap: the override when set (never falling back to PATH), else the first on PATH. */
export function locateBwrap(env: NodeJS.ProcessEnv): BwrapLocation {
  const override = env[BWRAP_OVERRIDE_ENV];
  if (override) {
    if (isAbsolute(override) && isExecutableFile(override)) return { found: true, path: override, via: BWRAP_OVERRIDE_ENV };
    return { found: false, searched: `${BWRAP_OVERRIDE_ENV}=${override}` };
  }
  const dirs = (env.PATH ?? '').split(delimiter).filter((d) => isAbsolute(d));
  for (const d of dirs) {
    const p = join(d, 'bwrap');
    if (isExecutableFile(p)) return { found: true, path: p, via: 'PATH' };
  }
  return { found: false, searched: `PATH=${env.PATH ?? ''}` };
}
