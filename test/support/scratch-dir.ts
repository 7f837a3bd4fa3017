import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/*
 * Every scratch directory a test makes is removed when its test process exits, passed or
 * failed: a full `npm test` makes about a thousand, and used to leave them all in /tmp and
 * /var/tmp. (A directory made by a fenced run that turned read-only is made writable
 * first, so even an unprivileged test user can remove it.) CELISTRA_KEEP_SCRATCH=1 keeps
 * them, to look at what a failing test left.
 */
const made: string[] = [];

function removeAll(): void {
  for (const dir of made) {
    try {
      rmSync(dir, { recursive: true, force: true });
    } catch {
      spawnSync('chmod', ['-R', 'u+rwx', dir], { stdio: 'ignore' });
      rmSync(dir, { recursive: true, force: true, maxRetries: 2 });
    }
  }
}

let registered = false;

/** mkdtempSync(parent/prefix), removed with everything in it when this process exits. */
export function scratchDir(prefix: string, parent: string = tmpdir()): string {
  if (!registered && !process.env.CELISTRA_KEEP_SCRATCH) {
    process.on('exit', removeAll);
    registered = true;
  }
  const dir = mkdtempSync(join(parent, prefix));
  made.push(dir);
  return dir;
}
