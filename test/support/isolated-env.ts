import { mkdirSync, realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { scratchDir } from './scratch-dir.js';

/** A scratch home + XDG dirs so a test never reads or writes the real user's state. */
export interface IsolatedEnv {
  root: string;
  home: string;
  env: Record<string, string>;
}

/** `parent`: where the scratch dir goes (default the system temp dir; tests of /tmp handling pick). */
export function isolatedEnv(prefix = 'celistra-test-', parent = tmpdir()): IsolatedEnv {
  const root = realpathSync(scratchDir(prefix, parent));
  const home = join(root, 'home');
  mkdirSync(home, { recursive: true });
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    HOME: home,
    // Outside the scratch home: tests snapshot the home to prove a fence held, and
    // Celistra's own writes (the audit log) must not show up as changes there.
    XDG_STATE_HOME: join(root, 'xdg', 'state'),
    XDG_CONFIG_HOME: join(root, 'xdg', 'config'),
    XDG_RUNTIME_DIR: join(root, 'run'),
  };
  mkdirSync(env.XDG_RUNTIME_DIR!, { recursive: true, mode: 0o700 });
  return { root, home, env };
}
