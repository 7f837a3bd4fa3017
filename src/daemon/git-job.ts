import type { PullMode } from '../worktree/pull.js';
import type { PullActor } from '../worktree/pull-audit.js';
import type { ErrorCode } from '../policy/errors.js';

/** One piece of host git work for a task, handed to a git worker (git-worker.ts). */
export type GitJob =
  | { op: 'stat'; workspace: string }
  | { op: 'diff'; agent: string; workspace: string }
  | { op: 'pull'; agent: string; workspace: string; mode: PullMode; by: PullActor };

/** A worker's answer to job `id`: its result, or the error it threw (a CelistraError's code and hint kept). */
export type GitJobAnswer = { id: number; result: unknown } | { id: number; error: { code: ErrorCode; message: string; hint?: string } };
