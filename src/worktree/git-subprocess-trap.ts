import { chmodSync, lstatSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { removeTree } from '../fs/tree-remove.js';

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

const PREFIX = 'celistra-git-trap-';
/** Named after the process that made it, so a later process can tell a dead one's leftover. */
const WITH_PID = /^celistra-git-trap-(\d+)-/;
/** Before the pid was in the name: such a dir is a day old at least before it is swept. */
const UNNAMED_GRACE_MS = 24 * 3600 * 1000;

/**
 * The exec path holding the refusing `git`: a private temp dir of this process (mode
 * 0700; not Celistra's state dir, since a refusing command must write nothing there),
 * removed at exit, and made again if something cleaned it while the daemon lives on.
 */
export function gitSubprocessTrap(): string {
  if (trapDir && lstatSync(join(trapDir, 'git'), { throwIfNoEntry: false })?.isFile()) return trapDir;
  if (!trapDir) sweepLeftTraps(tmpdir());
  const dir = mkdtempSync(join(tmpdir(), `${PREFIX}${process.pid}-`));
  writeFileSync(join(dir, 'git'), TRAP, { mode: 0o755 });
  chmodSync(join(dir, 'git'), 0o755);
  if (!trapDir) process.once('exit', () => rmSync(trapDir!, { recursive: true, force: true }));
  trapDir = dir;
  return dir;
}

/**
 * A process killed by a signal never runs its exit handler, so its trap stays behind
 * (test runs left thousands). Swept here: this user's trap dirs whose process is gone,
 * and old unnamed ones a day old. Sweeping one still in use is harmless: its process
 * makes a new one, and a git that finds no `git` to start fails, closed, all the same.
 */
export function sweepLeftTraps(dir: string, now = Date.now()): number {
  let swept = 0;
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return 0;
  }
  for (const name of names) {
    if (!name.startsWith(PREFIX)) continue;
    const path = join(dir, name);
    const st = lstatSync(path, { throwIfNoEntry: false });
    if (!st?.isDirectory() || st.uid !== process.getuid?.()) continue;
    const pid = WITH_PID.exec(name)?.[1];
    const left = pid ? !processLives(Number(pid)) : now - st.mtimeMs > UNNAMED_GRACE_MS;
    if (!left) continue;
    try {
      removeTree(path);
      swept++;
    } catch {
      // Another process swept it first, or it is not ours to remove: leave it.
    }
  }
  return swept;
}

function processLives(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
