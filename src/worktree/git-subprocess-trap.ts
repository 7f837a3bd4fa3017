import { chmodSync, lstatSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A host git that reads a task worktree (ls, diff, rm, pull's checkouts) must never start
 * git in a nested repository there: that git would read the nested repository's config,
 * which the agent wrote (a clean filter there is a command). Git enters a gitlinked
 * repository to tell whether it is dirty — `git add` always does, and a `.gitmodules`
 * `ignore = none` overrides every setting for the rest, under a name the agent picks.
 * Git starts that child as `git` from its exec path, so the hardened host git gets an exec
 * path whose `git` refuses: whatever path leads git into a nested repository fails,
 * closed, with this message, instead of running the agent's program. Git's builtins never
 * look there, so Celistra's own calls are unaffected.
 */
const TRAP = `#!/bin/sh
echo "celistra: host git tried to start git $1 in a nested repository of a task worktree; refused (it would obey that repository's config)" >&2
exit 1
`;

let trapDir: string | undefined;

/**
 * The exec path holding the refusing `git`: a private temp dir of this process (mode
 * 0700; not Celistra's state dir, since a refusing command must write nothing there),
 * removed at exit, and made again if something cleaned it while the daemon lives on.
 */
export function gitSubprocessTrap(): string {
  if (trapDir && lstatSync(join(trapDir, 'git'), { throwIfNoEntry: false })?.isFile()) return trapDir;
  const dir = mkdtempSync(join(tmpdir(), 'celistra-git-trap-'));
  writeFileSync(join(dir, 'git'), TRAP, { mode: 0o755 });
  chmodSync(join(dir, 'git'), 0o755);
  if (!trapDir) process.once('exit', () => rmSync(trapDir!, { recursive: true, force: true }));
  trapDir = dir;
  return dir;
}
