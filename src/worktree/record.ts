import { existsSync, lstatSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CelistraError } from '../policy/errors.js';

/**
 * Where Celistra keeps a task worktree's git state, inside the main repository's git
 * dir (the agent may read it, like the rest of the repository, but not write it):
 *
 *   <main .git>/celistra/worktrees/<name>/   container, host-owned, never writable by the agent
 *     worktree.json                          this record
 *     git/                                   the shadow common dir (agent-writable, with
 *                                            config, hooks/, info/, worktrees/ carved out)
 *     admin/                                 the worktree's own git dir: HEAD, index, logs
 *                                            (agent-writable, with gitdir/commondir carved out)
 *
 * Each writable directory holds only this agent's data, because Landlock grants whole
 * hierarchies. See docs/git-in-the-fence.md.
 */
export interface WorktreeRecord {
  version: 1;
  name: string;
  /** The main checkout's top directory. */
  repo: string;
  /** The main repository's git dir (`<repo>/.git`). */
  commonDir: string;
  /** The task's worktree directory. */
  path: string;
  /** The task's branch, e.g. `agent/fix-login`. */
  branch: string;
  /** The base as given (`main`, a tag, a commit) and the full ref it named, if any. */
  base: string;
  baseRef: string | null;
  baseCommit: string;
  /** Untracked files copied in from the main checkout (`.worktreeinclude`): not the task's work. */
  included: string[];
  createdAt: string;
  /**
   * Set for a worktree made by plain `git worktree add` and adopted on its first fenced run
   * (worktree/adopt.ts): its admin dir is git's own, `<main .git>/worktrees/<id>`, and
   * this is what that dir's `commondir` held before (to undo the adoption).
   */
  adoptedAdminDir?: string;
  adoptedCommonDir?: string;
}

export interface WorktreeLayout {
  container: string;
  recordFile: string;
  shadowDir: string;
  adminDir: string;
}

const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export function validateWorktreeName(name: string): void {
  if (!NAME_PATTERN.test(name) || name.includes('..') || name.endsWith('.lock') || name.endsWith('.')) {
    throw new CelistraError(
      'E_USAGE',
      `invalid worktree name "${name}"`,
      'use 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit',
    );
  }
}

export function containersDir(commonDir: string): string {
  return join(commonDir, 'celistra', 'worktrees');
}

export function layoutFor(commonDir: string, name: string): WorktreeLayout {
  const container = join(containersDir(commonDir), name);
  return {
    container,
    recordFile: join(container, 'worktree.json'),
    shadowDir: join(container, 'git'),
    adminDir: join(container, 'admin'),
  };
}

/** The layout of a recorded worktree: an adopted one keeps git's admin dir. */
export function layoutOf(record: WorktreeRecord): WorktreeLayout {
  const layout = layoutFor(record.commonDir, record.name);
  return record.adoptedAdminDir ? { ...layout, adminDir: record.adoptedAdminDir } : layout;
}

export function writeRecord(layout: WorktreeLayout, record: WorktreeRecord): void {
  writeFileSync(layout.recordFile, `${JSON.stringify(record, null, 2)}\n`, { mode: 0o644 });
}

export function readRecord(commonDir: string, name: string): WorktreeRecord | undefined {
  const file = layoutFor(commonDir, name).recordFile;
  if (!existsSync(file) || !lstatSync(file).isFile()) return undefined;
  let parsed: WorktreeRecord;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8')) as WorktreeRecord;
  } catch {
    throw new CelistraError('E_GIT', `the record of worktree "${name}" (${file}) is damaged`, `remove ${layoutFor(commonDir, name).container} by hand if the worktree is gone`);
  }
  if (parsed.version !== 1 || parsed.name !== name) {
    throw new CelistraError('E_GIT', `the record of worktree "${name}" (${file}) is not one this Celistra understands`);
  }
  return parsed;
}

/** Names of every Celistra worktree of this repository, sorted. */
export function recordNames(commonDir: string): string[] {
  const dir = containersDir(commonDir);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((n) => NAME_PATTERN.test(n) && existsSync(layoutFor(commonDir, n).recordFile))
    .sort();
}
