import { accessSync, constants } from 'node:fs';
import { nativeBuild } from '../landlock/native-addon.js';

/**
 * The init bwrap runs as pid 1 in place of its own (`bwrap --as-pid-1 -- celistra-exec
 * --sandbox-init -- COMMAND`, native/src/sandbox-init.c): one that is not dumpable, so
 * an unprivileged command cannot write its memory through /proc/1/mem and hang the run
 * (docs/security.md, "Hangs"). It is the Landlock backend's helper binary; where that is
 * not built, bwrap keeps its own init and the probe declares the `sandbox-init` gap.
 * Returns the helper's path, or undefined.
 */
export function sandboxInitPath(): string | undefined {
  if (process.platform !== 'linux') return undefined;
  const helper = nativeBuild().helperPath;
  try {
    accessSync(helper, constants.X_OK);
    return helper;
  } catch {
    return undefined;
  }
}

/** The command as bwrap runs it: under Celistra's init when there is one. */
export function underSandboxInit(argv: string[], init: string | undefined): string[] {
  return init ? [init, '--sandbox-init', '--', ...argv] : argv;
}
