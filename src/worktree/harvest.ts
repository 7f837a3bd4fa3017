import { CelistraError } from '../policy/errors.js';
import { git, gitPipe, gitTry, type GitRunOptions } from './git.js';
import { requireTip, type HostView } from './inspect.js';

/**
 * Bring the agent's commits into the main repository's object store. The objects are
 * packed from the agent's dir and re-indexed by the main repository with `--strict`,
 * which verifies every object's id and content and that nothing is missing — the agent
 * wrote those files, so nothing about them is trusted. Refs are not touched here.
 * `also`: more commits of the agent's (they must exist in its store) to import with the tip.
 */
export function importAgentObjects(view: HostView, also: string[] = []): string {
  const tip = requireTip(view);
  const main: GitRunOptions = { cwd: view.record.repo, gitDir: view.record.commonDir };
  const missing = [tip, ...also].filter((c) => gitTry(['cat-file', '-e', `${c}^{commit}`], main).status !== 0);
  if (missing.length === 0) return tip;
  const have = git(['for-each-ref', '--format=%(objectname)'], main).split('\n').filter(Boolean);
  const revs = [...missing, '--not', ...have, ''].join('\n');
  gitPipe(
    { args: ['pack-objects', '--revs', '--stdout', '-q'], opts: { ...view.read, input: revs } },
    { args: ['index-pack', '--stdin', '--strict'], opts: main },
  );
  if (gitTry(['cat-file', '-e', `${tip}^{commit}`], main).status !== 0) {
    throw new CelistraError('E_GIT', `commit ${tip} of worktree "${view.record.name}" could not be imported`);
  }
  return tip;
}

/** The main repository's current branch, or a refusal when HEAD is detached. */
export function mainBranch(view: HostView): string {
  const r = gitTry(['symbolic-ref', '-q', 'HEAD'], { cwd: view.record.repo, gitDir: view.record.commonDir });
  if (r.status !== 0) {
    throw new CelistraError('E_CONFLICT', `the main checkout ${view.record.repo} is on a detached HEAD`, 'switch it to the branch to pull into');
  }
  return r.stdout.trim();
}

/**
 * Point the main repository's copy of the task branch at the agent's tip (importing the
 * objects first). Refuses while the main checkout has that branch checked out, since
 * moving it would leave that checkout out of step.
 */
export function harvestBranch(view: HostView): string {
  const tip = importAgentObjects(view);
  const ref = `refs/heads/${view.record.branch}`;
  const head = gitTry(['symbolic-ref', '-q', 'HEAD'], { cwd: view.record.repo, gitDir: view.record.commonDir });
  if (head.status === 0 && head.stdout.trim() === ref) {
    throw new CelistraError('E_CONFLICT', `the main checkout has ${view.record.branch} checked out`, 'switch the main checkout to another branch first');
  }
  git(['update-ref', '-m', `celistra: harvest of worktree ${view.record.name}`, ref, tip], { cwd: view.record.repo, gitDir: view.record.commonDir });
  return tip;
}
