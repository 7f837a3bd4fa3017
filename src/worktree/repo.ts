import { existsSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, resolve, sep } from 'node:path';
import { CelistraError } from '../policy/errors.js';
import { git, gitTry } from './git.js';
import { readRecord } from './record.js';

/** A main repository: its checkout and its git dir. */
export interface MainRepo {
  /** Top directory of the main checkout. */
  top: string;
  /** The repository's git dir, shared by every worktree (`<top>/.git`). */
  commonDir: string;
}

/**
 * The main repository that `dir` belongs to. `dir` may be the main checkout, any
 * directory inside it, or a Celistra task worktree (then its record, which the agent
 * cannot write, names the main repository).
 */
export function findMainRepo(dir: string): MainRepo {
  const { abs, common, bare } = locate(dir);
  const shadowOf = shadowOwner(common);
  if (shadowOf) return shadowOf;
  if (bare) {
    throw new CelistraError('E_GIT', `${common} is a bare repository`, 'Celistra needs a main checkout to pull task branches into; use a clone with a working tree');
  }
  const list = git(['worktree', 'list', '--porcelain'], { cwd: abs });
  const first = list.split('\n').find((l) => l.startsWith('worktree '));
  if (!first) throw new CelistraError('E_GIT', `could not find the main checkout of ${common}`);
  return { top: realpathSync(first.slice('worktree '.length)), commonDir: common };
}

/** The git dir shared by every worktree of the repository containing `dir` (one git call). */
export function findCommonDir(dir: string): string {
  const { common } = locate(dir);
  return shadowOwner(common)?.commonDir ?? common;
}

function locate(dir: string): { abs: string; common: string; bare: boolean } {
  const abs = resolve(dir);
  if (!existsSync(abs) || !statSync(abs).isDirectory()) {
    throw new CelistraError('E_NOT_FOUND', `${abs} is not a directory`);
  }
  const r = gitTry(['rev-parse', '--path-format=absolute', '--git-common-dir', '--is-bare-repository'], { cwd: abs });
  if (r.status !== 0) {
    throw new CelistraError('E_GIT', `${abs} is not inside a git repository`, 'run it in a repository, pass --repo DIR, or create one with `git init`');
  }
  const [commonRaw, bare] = r.stdout.trim().split('\n');
  return { abs, common: realpathSync(commonRaw!), bare: bare === 'true' };
}

/** When `common` is a Celistra shadow dir (`<git dir>/celistra/worktrees/<name>/git`), its main repo. */
function shadowOwner(common: string): MainRepo | undefined {
  const parts = common.split(sep);
  const n = parts.length;
  if (n < 5 || parts[n - 1] !== 'git' || parts[n - 3] !== 'worktrees' || parts[n - 4] !== 'celistra') return undefined;
  const mainCommon = dirname(dirname(dirname(dirname(common))));
  const record = readRecord(mainCommon, parts[n - 2]!);
  if (!record) return undefined;
  return { top: record.repo, commonDir: record.commonDir };
}

/** The HEAD commit, or a refusal when the repository has none yet. */
export function requireCommits(repo: MainRepo): string {
  const r = gitTry(['rev-parse', '--verify', '-q', 'HEAD^{commit}'], { cwd: repo.top, gitDir: repo.commonDir, workTree: repo.top });
  if (r.status !== 0) {
    throw new CelistraError('E_GIT', `${repo.top} has no commits yet`, 'make a first commit; a task branch needs a base');
  }
  return r.stdout.trim();
}

/** `../<repo>-<name>`: the default place of a task worktree. */
export function defaultWorktreePath(repo: MainRepo, name: string): string {
  return resolve(dirname(repo.top), `${basename(repo.top)}-${name}`);
}
