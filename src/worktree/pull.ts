import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CelistraError } from '../policy/errors.js';
import { alternatesList, git, gitTry, type GitResult, type GitRunOptions } from './git.js';
import { harvestBranch, importAgentObjects, mainBranch } from './harvest.js';
import { hostView, requireTip } from './inspect.js';
import type { WorktreeRecord } from './record.js';

/**
 * How a task's commits land on the main checkout's current branch:
 * `merge` fast-forwards when it can and otherwise makes a merge commit; `ff-only`
 * refuses anything but a fast-forward; `squash` makes one commit with the task's result.
 */
export type PullMode = 'merge' | 'ff-only' | 'squash';

export interface PullResult {
  branch: string;
  into: string;
  mode: PullMode;
  outcome: 'up-to-date' | 'fast-forward' | 'merge-commit' | 'squash-commit';
  /** The main branch's new tip. */
  commit: string;
}

/**
 * Pull a task into the main checkout. Everything that can refuse is decided before the
 * repository changes: ancestry is read with the agent's objects visible read-only, a
 * merge is computed by `merge-tree` into a throwaway object dir, and the checkout is
 * dry-run on a copy of the index. Only then are the task's objects imported (verified),
 * the new commit made, the files updated, the branch moved and `agent/<name>` updated.
 * On refusal the refs, index, files and object store are as they were.
 */
export function pullWorktree(record: WorktreeRecord, mode: PullMode): PullResult {
  const view = hostView(record);
  const main: GitRunOptions = { cwd: record.repo, gitDir: record.commonDir, workTree: record.repo };
  const into = mainBranch(view);
  if (into === `refs/heads/${record.branch}`) {
    throw new CelistraError('E_CONFLICT', `the main checkout is on ${record.branch} itself`, 'switch it to the branch to pull into');
  }
  const dirty = git(['status', '--porcelain', '--untracked-files=no', '--ignore-submodules=all'], main);
  if (dirty.trim() !== '') {
    throw new CelistraError('E_CONFLICT', `the main checkout ${record.repo} has uncommitted changes`, 'commit or stash them first; nothing was changed');
  }
  const tip = requireTip(view);
  // Decide with the agent's objects visible read-only; import them only once pulling.
  const read: GitRunOptions = { ...main, env: view.read.env };
  const head = git(['rev-parse', 'HEAD'], main).trim();
  const short = into.replace(/^refs\/heads\//, '');
  let commit: string;
  let outcome: PullResult['outcome'];
  const isAncestor = (a: string, b: string) => gitTry(['merge-base', '--is-ancestor', a, b], read).status === 0;

  if (mode !== 'squash' && isAncestor(tip, head)) {
    commit = head;
    outcome = 'up-to-date';
  } else if (mode !== 'squash' && isAncestor(head, tip)) {
    refuseIfCheckoutWouldFail(read, head, tip);
    importAgentObjects(view);
    commit = tip;
    outcome = 'fast-forward';
  } else if (mode === 'ff-only') {
    throw new CelistraError('E_CONFLICT', `${record.branch} cannot be fast-forwarded onto ${short}: they have diverged`, `use --merge or --squash, or rebase the task onto ${short} inside its worktree; nothing was changed`);
  } else {
    const merged = quarantinedMergeTree(read, head, tip);
    if (merged.status === 1) {
      const files = merged.stdout.trim().split('\n').slice(1).filter(Boolean);
      throw new CelistraError('E_CONFLICT', `${record.branch} conflicts with ${short} in: ${files.join(', ') || '(unknown files)'}`, 'resolve it inside the task worktree (rebase or merge there), then pull again; nothing was changed');
    }
    if (merged.status !== 0) throw new CelistraError('E_GIT', `git merge-tree failed: ${merged.stderr.trim()}`);
    importAgentObjects(view);
    const tree = git(['merge-tree', '--write-tree', '--no-messages', head, tip], main).trim().split('\n')[0]!;
    if (mode === 'squash') {
      if (tree === git(['rev-parse', `${head}^{tree}`], main).trim()) {
        commit = head;
        outcome = 'up-to-date';
      } else {
        const log = git(['log', '--format=* %s', `${head}..${tip}`], main);
        const message = `Squashed ${record.branch} (celistra worktree ${record.name})\n\n${log}`;
        commit = git(['commit-tree', tree, '-p', head, '-F', '-'], { ...main, input: message }).trim();
        outcome = 'squash-commit';
      }
    } else {
      const message = `Merge branch '${record.branch}' into ${short}\n`;
      commit = git(['commit-tree', tree, '-p', head, '-p', tip, '-F', '-'], { ...main, input: message }).trim();
      outcome = 'merge-commit';
    }
  }
  if (commit !== head) {
    // A two-way read-tree is the fast-forward of `git merge` without its side files
    // (ORIG_HEAD): it refuses, touching nothing, when local files would be overwritten.
    const r = gitTry(['read-tree', '-m', '-u', head, commit], main);
    if (r.status !== 0) {
      throw new CelistraError('E_CONFLICT', `git refused to update the main checkout: ${r.stderr.trim().split('\n').slice(0, 4).join('; ')}`, 'move the files it names out of the way; nothing was changed');
    }
    git(['update-ref', '-m', `celistra pull ${record.name}: ${outcome}`, 'HEAD', commit, head], main);
  }
  harvestBranch(view);
  return { branch: record.branch, into: short, mode, outcome, commit };
}

/**
 * `merge-tree` with its result objects written to a throwaway dir, and on a clean merge
 * a dry run of the checkout: deciding writes nothing to the repository.
 */
function quarantinedMergeTree(read: GitRunOptions, head: string, tip: string): GitResult {
  const quarantine = mkdtempSync(join(tmpdir(), 'celistra-merge-'));
  try {
    const alternates = [alternatesList([join(read.gitDir!, 'objects')]), read.env?.GIT_ALTERNATE_OBJECT_DIRECTORIES].filter(Boolean).join(':');
    const opts = { ...read, env: { ...read.env, GIT_OBJECT_DIRECTORY: quarantine, GIT_ALTERNATE_OBJECT_DIRECTORIES: alternates } };
    const merged = gitTry(['merge-tree', '--write-tree', '--name-only', '--no-messages', head, tip], opts);
    if (merged.status === 0) refuseIfCheckoutWouldFail(opts, head, merged.stdout.trim().split('\n')[0]!);
    return merged;
  } finally {
    rmSync(quarantine, { recursive: true, force: true });
  }
}

/**
 * Would moving the main checkout from `head` to `target` overwrite local files? Asked
 * with a copy of the index, so that not even a lock file appears in the main git dir.
 */
function refuseIfCheckoutWouldFail(read: GitRunOptions, head: string, target: string): void {
  const scratch = mkdtempSync(join(tmpdir(), 'celistra-index-'));
  try {
    const index = join(read.gitDir!, 'index');
    const copy = join(scratch, 'index');
    if (existsSync(index)) copyFileSync(index, copy);
    const r = gitTry(['read-tree', '-m', '-u', '-n', head, target], { ...read, env: { ...read.env, GIT_INDEX_FILE: copy } });
    if (r.status !== 0) {
      throw new CelistraError('E_CONFLICT', `git refused to update the main checkout: ${r.stderr.trim().split('\n').slice(0, 4).join('; ')}`, 'move the files it names out of the way; nothing was changed');
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
