import { chmodSync, lstatSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The task's own `post-index-change` hook (in the shadow's `hooks/`, which Celistra writes
 * and the agent cannot), named by `core.hooksPath` in the shadow config: after every write
 * of the task's index — by your git (`checkout`, `switch`, `reset`, `stash apply/pop`,
 * `restore --staged`, `merge`, `add` of an embedded repository, `read-tree`, ...) or the
 * agent's — it marks every gitlink skip-worktree again. A gitlink that enters the index
 * anew (a checkout of a commit that has one where the last had none) has lost the mark
 * (worktree/gitlink-guard.ts), and your next `git add -A` / `stash` would enter it.
 *
 * Git 2.39 runs this hook after the index lock is committed, ignores its exit status, and
 * runs it again after the hook's own update-index (which then finds nothing to mark).
 * Where the lock is still held (a `git commit` writing its own index) the update fails
 * quietly; such writes change no gitlink. The after-run step and every host-side command
 * mark the index anyway.
 */
export const GITLINK_HOOK = 'post-index-change';

export const GITLINK_HOOK_SCRIPT = `#!/bin/sh
# Written by Celistra (src/worktree/gitlink-hook.ts); read-only inside the fence.
# After every write of this task worktree's index, mark every gitlink skip-worktree, so
# that git add -A / -u / . and git stash never enter a nested repository the agent made
# (its own config is the agent's: core.fsmonitor, filters). To stage a new commit of a
# submodule: git update-index --cacheinfo 160000,<commit>,<path>
unmarked=$(git ls-files --stage -t 2>/dev/null | sed -n 's/^[^S] 160000 [0-9a-f]* 0\t//p')
if [ -n "$unmarked" ]; then
  printf '%s\\n' "$unmarked" | git update-index --skip-worktree --stdin >/dev/null 2>&1
fi
exit 0
`;

/** Write the hook into the shadow's hooks dir when it is missing or not ours. */
export function installGitlinkHook(shadowDir: string): void {
  const file = join(shadowDir, 'hooks', GITLINK_HOOK);
  const st = lstatSync(file, { throwIfNoEntry: false });
  if (st?.isFile() && (st.mode & 0o777) === 0o755 && readFileSync(file, 'utf8') === GITLINK_HOOK_SCRIPT) return;
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, GITLINK_HOOK_SCRIPT, { mode: 0o755 });
  chmodSync(tmp, 0o755);
  renameSync(tmp, file);
}

/** The shadow's hooks dir, named explicitly so that a global `core.hooksPath` cannot take the hook away. */
export function hooksPathOf(shadowDir: string): string {
  return join(shadowDir, 'hooks');
}
