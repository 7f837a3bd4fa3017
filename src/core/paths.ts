import { join } from 'node:path';
import { os } from './os-on-demand.js';

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

/**
 * os.tmpdir() as Node computes it on Linux and macOS, without loading node:os: the
 * runtime dir below is worked out on every `celistra run`, and where XDG_RUNTIME_DIR is
 * unset (root shells, containers, CI) loading node:os for this alone cost ~0.3–0.5 ms.
 */
function systemTempDir(): string {
  const dir = process.env.TMPDIR || process.env.TMP || process.env.TEMP || '/tmp';
  return dir.length > 1 && dir.endsWith('/') ? dir.slice(0, -1) : dir;
}

export function celistraPaths(env: NodeJS.ProcessEnv = process.env): CelistraPaths {
  const home = env.HOME || os().homedir();
  const stateBase = env.XDG_STATE_HOME || join(home, '.local', 'state');
  const configBase = env.XDG_CONFIG_HOME || join(home, '.config');
  // Without XDG_RUNTIME_DIR (no systemd login session, e.g. su or cron) fall back to a
  // per-user directory in the system temp dir; the daemon creates it 0700.
  const uid = typeof process.getuid === 'function' ? process.getuid() : 0;
  const runtimeBase = env.XDG_RUNTIME_DIR || join(systemTempDir(), `celistra-${uid}`);
  return {
    home,
    stateDir: join(stateBase, 'celistra'),
    configDir: join(configBase, 'celistra'),
    runtimeDir: env.XDG_RUNTIME_DIR ? join(runtimeBase, 'celistra') : runtimeBase,
  };
}
