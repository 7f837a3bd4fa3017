import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { CaseContext } from './case.js';

/**
 * A repository of a case's own under the stage root (`<root>/<dir>/repo`, one commit on
 * `main`) with the task worktree `t` at `<root>/<dir>/repo-t`, made by the real CLI: a case
 * that pulls or removes a task moves nothing the other cases use.
 */
export interface OwnTask {
  base: string;
  repo: string;
  wt: string;
  env: Record<string, string>;
  /** The real CLI, run in the repository. */
  cli: (...args: string[]) => SpawnSyncReturns<string>;
}

export function ownTaskWorktree(ctx: CaseContext, dir: string): OwnTask | { error: string } {
  const base = join(ctx.stage.root, dir);
  const repo = join(base, 'repo');
  mkdirSync(repo, { recursive: true });
  const env = { ...ctx.stage.env, GIT_CONFIG_NOSYSTEM: '1' };
  const cli = (...args: string[]) => spawnSync(process.execPath, [ctx.cli, ...args], { cwd: repo, env, encoding: 'utf8', timeout: 60_000 });
  spawnSync('sh', ['-c', 'git init -q -b main . && echo one > README && git add README && git commit -qm one'], { cwd: repo, env });
  const added = cli('worktree', 'add', 't');
  if (added.status !== 0) return { error: added.stderr.trim() };
  return { base, repo, wt: join(base, 'repo-t'), env, cli };
}
