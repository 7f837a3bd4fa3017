import { basename } from 'node:path';
import { validateAgentName } from './agent-spec.js';

/** Branches of task worktrees are `agent/<task>` (celistra worktree add, and the seed's `git worktree add -b agent/task-1`). */
const TASK_BRANCH = /^agent\/(.+)$/;

/**
 * The name an agent gets when none is given: its task, as approval requests, `ctl ls`
 * and the audit log show it. The task of a worktree on branch `agent/task-1` is
 * `task-1`; elsewhere the workspace's directory name stands in. `taken` says which
 * names are in use: the first free one of `task-1`, `task-1-2`, `task-1-3`, ... wins.
 */
export function taskName(workspace: string, branch: string | undefined, taken: (name: string) => boolean = () => false): string {
  const fromBranch = branch ? TASK_BRANCH.exec(branch)?.[1] : undefined;
  const base = sanitize(fromBranch?.split('/').join('-') ?? basename(workspace));
  for (let i = 1; ; i++) {
    const candidate = i === 1 ? base : `${base.slice(0, 60)}-${i}`;
    if (!taken(candidate)) return validateAgentName(candidate);
  }
}

/** Agent names allow letters, digits, `.`, `_` and `-`, starting with a letter or digit, at most 64. */
function sanitize(raw: string): string {
  const cleaned = raw.replace(/[^A-Za-z0-9_.-]/g, '-').replace(/^[^A-Za-z0-9]+/, '').slice(0, 64);
  return cleaned || 'agent';
}
