import type { BackendName } from '../../src/backends/backend.js';
import { backendByName } from '../../src/run/backend-selection.js';

/**
 * Why a test that fences a task worktree (`celistra worktree add`, or a plain `git
 * worktree add` one handed over with --workspace) cannot run with `backend` here, or
 * false. Besides an unusable backend: Landlock without user namespaces refuses every task
 * worktree, since its `.git` pointer and admin files must stay read-only inside a writable
 * root, which needs a mount namespace (docs/landlock.md; `doctor` says so). That refusal
 * is tested where it is the subject (test/landlock-plan.test.ts, conformance case 27).
 */
export function taskWorktreeSkip(backend: BackendName): string | false {
  const caps = backendByName(backend).probe();
  if (!caps.available) return `${backend} is not usable here: ${caps.unavailableReason}`;
  if (backend === 'landlock' && !caps.details.userNamespaces) return 'landlock without user namespaces refuses task worktrees here (read-only .git pointers need a mount namespace)';
  return false;
}

/** Why no Linux backend can fence a task worktree here (so `run --worktree` is refused), or false. */
export function anyTaskWorktreeSkip(): string | false {
  const landlock = taskWorktreeSkip('landlock');
  const bwrap = taskWorktreeSkip('bwrap');
  return landlock && bwrap ? `no Linux backend fences a task worktree here: ${landlock}; ${bwrap}` : false;
}
