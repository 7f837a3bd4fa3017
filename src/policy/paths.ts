import { join } from 'node:path';
import { os } from '../lazy/os.js';

/**
 * Where Celistra keeps things, following the XDG base directory spec. Tests isolate
 * themselves by setting XDG_STATE_HOME / XDG_CONFIG_HOME / XDG_RUNTIME_DIR.
 */
export interface CelistraPaths {
  home: string;
  /** Agent specs, audit log, git shadows. */
  stateDir: string;
  /** Config file, API token. */
  configDir: string;
  /** Control socket, daemon lock. */
  runtimeDir: string;
}

export function celistraPaths(env: NodeJS.ProcessEnv = process.env): CelistraPaths {
  const home = env.HOME || os().homedir();
  const stateBase = env.XDG_STATE_HOME || join(home, '.local', 'state');
  const configBase = env.XDG_CONFIG_HOME || join(home, '.config');
  // Without XDG_RUNTIME_DIR (no systemd login session, e.g. su or cron) fall back to a
  // directory in our home, never the shared temp dir: there another local user could
  // create the path first and pose as our daemon (issue 19). Not inside the state dir:
  // both are read-denied to agents, and a denied path inside another cannot be masked.
  return {
    home,
    stateDir: join(stateBase, 'celistra'),
    configDir: join(configBase, 'celistra'),
    runtimeDir: env.XDG_RUNTIME_DIR ? join(env.XDG_RUNTIME_DIR, 'celistra') : join(home, '.celistra-run'),
  };
}
