import { existsSync, lstatSync, mkdirSync, readdirSync, realpathSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { CelistraError } from '../policy/errors.js';
import { git, gitTry } from './git.js';
import { harvestBranch } from './harvest.js';
import { hostView, worktreeState, type HostView, type WorktreeState } from './inspect.js';
import { copyIncludedFiles, setupCommand } from './prepare.js';
import { containersDir, layoutFor, layoutOf, readRecord, recordNames, validateWorktreeName, writeRecord, type WorktreeRecord } from './record.js';
import { defaultWorktreePath, findCommonDir, findMainRepo, requireCommits, type MainRepo } from './repo.js';
import { createShadow, excludeFromShadow } from './shadow.js';
import { pinSubmoduleNames } from './submodule-pins.js';
import { refuseWhileLeased } from './lease.js';
import { removeTree } from '../fs/tree-remove.js';

/** The branch namespace of task worktrees. */
export const BRANCH_PREFIX = 'agent/';

export interface AddOptions {
  name: string;
  /** A directory in the repository (default: the current directory). */
  repo?: string;
  base?: string;
  path?: string;
  /** Progress lines for a person ("created ...", "copied .env"). */
  progress?: (line: string) => void;
}

export interface AddResult {
  record: WorktreeRecord;
  /**
   * The repository's setup command, not yet run: the caller runs it fenced with
   * runWorktreeSetup (worktree/setup.ts), since the tree may be an agent's work.
   */
  setup?: string;
}

/**
 * Create a task worktree: branch `agent/<name>` from the base, checked out in its own
 * directory, with its git state in a private shadow dir (see worktree/record.ts).
 * Every refusal happens before anything is written.
 */
export function addWorktree(opts: AddOptions): AddResult {
  validateWorktreeName(opts.name);
  const repo = findMainRepo(opts.repo ?? process.cwd());
  requireCommits(repo);
  const branch = `${BRANCH_PREFIX}${opts.name}`;
  const layout = layoutFor(repo.commonDir, opts.name);
  if (existsSync(layout.container)) {
    throw new CelistraError('E_CONFLICT', `a worktree named "${opts.name}" already exists in ${repo.top}`, 'pick another name, or remove it with `celistra worktree rm`');
  }
  const main = { cwd: repo.top, gitDir: repo.commonDir };
  if (gitTry(['show-ref', '--verify', '-q', `refs/heads/${branch}`], main).status === 0) {
    throw new CelistraError('E_CONFLICT', `branch ${branch} already exists in ${repo.top}`, `pick another name, or delete the branch (git branch -d ${branch})`);
  }
  const { base, baseRef, baseCommit } = resolveBase(repo, opts.base);
  const setup = setupCommand(repo);
  const path = resolve(opts.path ?? defaultWorktreePath(repo, opts.name));
  if (existsSync(path) && (!lstatSync(path).isDirectory() || readdirSync(path).length > 0)) {
    throw new CelistraError('E_CONFLICT', `the target path ${path} already exists and is not an empty directory`, 'pass --path to choose another place, or move it away');
  }

  const createdPath = !existsSync(path);
  mkdirSync(path, { recursive: true });
  const worktree = realpathSync(path);
  const record: WorktreeRecord = {
    version: 1,
    name: opts.name,
    repo: repo.top,
    commonDir: repo.commonDir,
    path: worktree,
    branch,
    base,
    baseRef,
    baseCommit,
    included: [],
    createdAt: new Date().toISOString(),
  };
  try {
    createShadow(layout, repo, branch, baseCommit);
    const a = layout.adminDir;
    mkdirSync(join(a, 'logs'), { recursive: true });
    writeFileSync(join(a, 'HEAD'), `ref: refs/heads/${branch}\n`);
    writeFileSync(join(a, 'commondir'), `${layout.shadowDir}\n`);
    writeFileSync(join(a, 'gitdir'), `${join(worktree, '.git')}\n`);
    writeFileSync(join(worktree, '.git'), `gitdir: ${a}\n`);
    git(['read-tree', '--reset', '-u', 'HEAD'], { cwd: worktree, gitDir: a, workTree: worktree });
    // The main repository keeps its own copy of the task branch: it holds the base's
    // objects alive for the shadow, and `pull` moves it to the harvested commits.
    git(['update-ref', '-m', `celistra: worktree ${opts.name} added`, `refs/heads/${branch}`, baseCommit, ''], main);
    record.included = copyIncludedFiles(repo, worktree);
    excludeFromShadow(layout, record.included);
    writeRecord(layout, record);
    // The base's own submodule names too: a later refusal (pull, rm) then writes nothing.
    pinSubmoduleNames(record);
  } catch (e) {
    // Undo in reverse: the main branch only if it is still the one we made.
    gitTry(['update-ref', '-d', `refs/heads/${branch}`, baseCommit], main);
    rmSync(layout.container, { recursive: true, force: true });
    removeIfEmpty(containersDir(repo.commonDir));
    removeIfEmpty(join(repo.commonDir, 'celistra'));
    if (createdPath) rmSync(worktree, { recursive: true, force: true });
    else for (const entry of readdirSync(worktree)) rmSync(join(worktree, entry), { recursive: true, force: true });
    throw e;
  }
  opts.progress?.(`created ${worktree} on branch ${branch} from ${base} (${baseCommit.slice(0, 12)})`);
  for (const f of record.included) opts.progress?.(`copied ${f}`);
  return { record, ...(setup ? { setup } : {}) };
}

function removeIfEmpty(dir: string): void {
  if (existsSync(dir) && readdirSync(dir).length === 0) rmdirSync(dir);
}

function resolveBase(repo: MainRepo, base: string | undefined): { base: string; baseRef: string | null; baseCommit: string } {
  const main = { cwd: repo.top, gitDir: repo.commonDir };
  const name = base ?? (gitTry(['symbolic-ref', '-q', '--short', 'HEAD'], main).stdout.trim() || 'HEAD');
  if (name.startsWith('-')) throw new CelistraError('E_USAGE', `invalid base "${name}"`);
  const commit = gitTry(['rev-parse', '--verify', '-q', `${name}^{commit}`], main);
  if (commit.status !== 0) {
    throw new CelistraError('E_NOT_FOUND', `base "${name}" is not a commit in ${repo.top}`, 'pass --base with a branch, tag or commit that exists');
  }
  const full = gitTry(['rev-parse', '--verify', '-q', '--symbolic-full-name', name], main).stdout.trim();
  const baseRef = full.startsWith('refs/heads/') || full.startsWith('refs/tags/') || full.startsWith('refs/remotes/') ? full : null;
  return { base: name, baseRef, baseCommit: commit.stdout.trim() };
}

/** A task worktree by name, in the repository containing `dir` (default: the current directory). */
export function findWorktree(name: string, dir?: string): WorktreeRecord {
  validateWorktreeName(name);
  const commonDir = findCommonDir(dir ?? process.cwd());
  const record = readRecord(commonDir, name);
  if (!record) {
    const known = recordNames(commonDir);
    throw new CelistraError('E_NOT_FOUND', `no worktree named "${name}" in ${dirname(commonDir)}`, known.length ? `known: ${known.join(', ')}` : 'create one with `celistra worktree add NAME`');
  }
  return record;
}

export interface WorktreeListing extends WorktreeState {
  name: string;
  path: string;
  branch: string;
  base: string;
  /** The agent running there, when the caller (the daemon) knows; else null. */
  agent: string | null;
}

/**
 * Every task worktree of the repository containing `dir`, with its state. The daemon
 * passes `agentFor` to fill in which agent runs in each.
 */
export function listWorktrees(dir?: string, agentFor?: (record: WorktreeRecord) => string | undefined): WorktreeListing[] {
  const repo = findMainRepo(dir ?? process.cwd());
  return recordNames(repo.commonDir).map((name) => {
    const record = readRecord(repo.commonDir, name)!;
    return {
      name,
      path: record.path,
      branch: record.branch,
      base: record.base,
      agent: agentFor?.(record) ?? null,
      ...worktreeState(hostView(record)),
    };
  });
}

export interface RemoveOptions {
  force?: boolean;
  deleteBranch?: boolean;
}

export interface RemoveResult {
  /** The main repository's task branch after removal: kept at this commit, or deleted. */
  branchKept: string | null;
  branchDeleted: boolean;
}

/**
 * Remove a task worktree. Committed work is never lost by removal: the agent's commits
 * are first harvested into the main repository's copy of the branch. Uncommitted work
 * blocks removal unless forced; deleting a branch with commits not merged into the main
 * checkout's current branch needs both --delete-branch and --force.
 */
export function removeWorktree(record: WorktreeRecord, opts: RemoveOptions): RemoveResult {
  const layout = layoutOf(record);
  const main = { cwd: record.repo, gitDir: record.commonDir };
  const ref = `refs/heads/${record.branch}`;
  const mainTip = gitTry(['rev-parse', '--verify', '-q', ref], main).stdout.trim();
  // Its agent may still be writing the tree: removing it now would race the agent.
  refuseWhileLeased(record, layout);
  const view = tamperedOrView(record, opts.force);
  if (view) refuseLosingWork(record, view, mainTip, opts);
  else if (opts.deleteBranch && gitTry(['symbolic-ref', '-q', 'HEAD'], main).stdout.trim() === ref) {
    throw new CelistraError('E_CONFLICT', `the main checkout has ${record.branch} checked out`, 'switch it to another branch first; nothing was changed');
  }
  if (existsSync(join(record.path, '.git')) && lstatSync(join(record.path, '.git')).isFile()) {
    removeTree(record.path);
  }
  // An adopted worktree is also registered with git: its admin dir goes too, as with `git worktree remove`.
  if (record.adoptedAdminDir) removeTree(record.adoptedAdminDir);
  removeTree(layout.container);
  if (opts.deleteBranch && mainTip) git(['update-ref', '-d', ref, mainTip], main);
  const kept = opts.deleteBranch ? '' : gitTry(['rev-parse', '--verify', '-q', ref], main).stdout.trim();
  return { branchKept: kept || null, branchDeleted: Boolean(opts.deleteBranch && mainTip) };
}

/**
 * The host view of a task, or undefined when its git state was tampered with and the
 * user forces removal: nothing is read through it then, so nothing is harvested.
 */
function tamperedOrView(record: WorktreeRecord, force: boolean | undefined): HostView | undefined {
  try {
    return hostView(record);
  } catch (e) {
    if (force && e instanceof CelistraError && e.code === 'E_GIT') return undefined;
    throw e;
  }
}

/** Refuse removal that would lose uncommitted or unmerged work; harvest the task's commits. */
function refuseLosingWork(record: WorktreeRecord, view: HostView, mainTip: string, opts: RemoveOptions): void {
  const main = { cwd: record.repo, gitDir: record.commonDir };
  const ref = `refs/heads/${record.branch}`;
  const state = worktreeState(view);
  if (state.dirty && !opts.force) {
    throw new CelistraError('E_CONFLICT', `worktree "${record.name}" has uncommitted changes`, 'commit them inside the worktree, or pass --force to drop them; nothing was changed');
  }
  if (opts.deleteBranch) {
    const read = { ...main, env: view.read.env };
    const tips = [view.tip, mainTip].filter((t): t is string => Boolean(t));
    const unmerged = tips.length ? Number(git(['rev-list', '--count', ...tips, '--not', 'HEAD'], read).trim()) : 0;
    if (unmerged > 0 && !opts.force) {
      throw new CelistraError(
        'E_CONFLICT',
        `branch ${record.branch} has ${unmerged} commit(s) not merged into the main checkout's current branch`,
        `pull it first (celistra pull ${record.name}), or pass --delete-branch --force to delete it anyway; nothing was changed`,
      );
    }
    if (gitTry(['symbolic-ref', '-q', 'HEAD'], main).stdout.trim() === ref) {
      throw new CelistraError('E_CONFLICT', `the main checkout has ${record.branch} checked out`, 'switch it to another branch first; nothing was changed');
    }
  } else if (view.tip && view.tip !== mainTip) {
    try {
      harvestBranch(view);
    } catch (e) {
      if (!opts.force) {
        throw new CelistraError('E_CONFLICT', `the commits of worktree "${record.name}" could not be kept: ${(e as Error).message}`, 'fix that, or pass --force to drop them; nothing was removed');
      }
    }
  }
}
