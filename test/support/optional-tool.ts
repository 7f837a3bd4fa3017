import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';

/**
 * Why a test needing an optional tool cannot run here, or false when the tool is on PATH:
 * pass the result as the test's `skip`, so that a machine without the tool reports a
 * skip with the reason (and how to install it) instead of a failure or a crash.
 * `.ci/run` installs every such tool, so CI runs every test.
 */
export function missingTool(command: string, install: string): string | false {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!isAbsolute(dir)) continue;
    const file = join(dir, command);
    try {
      accessSync(file, constants.X_OK);
      if (statSync(file).isFile()) return false;
    } catch {
      // not in this directory
    }
  }
  return `${command} is not installed (${install})`;
}
