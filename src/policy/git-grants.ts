/**
 * What a linked git worktree needs so that an agent can use git in it while fenced.
 * Built on the host by `gitGrantsFor` (src/worktree/grants.ts) and carried in the
 * Policy as plain data; backends only see writable roots, read-only carve-outs and env.
 */
export interface GitGrants {
  /** Name of the mechanism, documented in docs/git-in-the-fence.md. */
  mechanism: string;
  /** The linked worktree (the workspace). */
  worktree: string;
  /** `<common>/worktrees/<id>`: the worktree's admin dir (HEAD, index, logs). */
  adminDir: string;
  /** The shared repository dir (`.git` of the main checkout). */
  commonDir: string;
  /** The branch the agent owns, e.g. `agent/task-1`. */
  branch: string;
  /** Directories the agent must be able to write for git to work. */
  writableRoots: string[];
  /** Files inside writable roots that must stay read-only (`.git` pointer, gitdir, commondir). */
  readOnlyPaths: string[];
  /** Environment git needs inside the fence (e.g. GIT_OBJECT_DIRECTORY). */
  env: Record<string, string>;
}
