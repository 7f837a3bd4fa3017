import { existsSync, lstatSync, readFileSync, realpathSync as realpathSyncJs } from 'node:fs';

// realpath(3), as in policy.ts: one call instead of a JS walk of every path component.
const realpathSync = realpathSyncJs.native;
import { basename, dirname, join } from 'node:path';
import type { GitGrants } from '../policy/git-grants.js';
import { layoutFor, layoutOf, readRecord, type WorktreeRecord } from './record.js';
import { adopt, plainWorktreeAt } from './adopt.js';
import { CelistraError } from '../policy/errors.js';
import { hardenShadowConfig, mirrorMainRefs, shadowReadOnlyPaths, verifyShadowObjectStore } from './shadow.js';
import { pinSubmoduleNames } from './submodule-pins.js';

/** The mechanism's name, as documented in docs/git-in-the-fence.md. */
export const GIT_MECHANISM = 'shadow-common-dir';

/** Told when a plain `git worktree add` worktree is adopted (said once on stderr, audited). */
export type AdoptionListener = (record: WorktreeRecord) => void;

/**
 * The git grants for a workspace that is a task worktree — one made by `celistra worktree
 * add`, or one made by plain `git worktree add` (adopted here on its first fenced use,
 * see worktree/adopt.ts) — or undefined when it is not one (a plain directory, a main
 * checkout, a worktree on a detached HEAD: git there stays read-only inside the fence).
 *
 * The agent may write its worktree's admin dir (HEAD, index, logs, rebase state) and its
 * shadow common dir (its own objects and refs); inside those, the files that decide where
 * git looks and what it runs stay read-only. Nothing of the main git dir is writable.
 * Before returning, the shadow's view of the main branches is refreshed so that
 * `git log main` inside shows the current main.
 */
export function gitGrantsFor(workspace: string, onAdopt?: AdoptionListener): GitGrants | undefined {
  const found = recordedWorktree(workspace, onAdopt);
  if (!found) return undefined;
  const { record, pointer } = found;
  const layout = layoutOf(record);
  verifyShadowObjectStore(layout, record.commonDir);
  hardenShadowConfig(layout);
  // Names pinned after the last run still hold if that run had no after-step (it was killed).
  pinSubmoduleNames(record);
  const readOnlyPaths = [pointer, join(layout.adminDir, 'gitdir'), join(layout.adminDir, 'commondir'), ...shadowReadOnlyPaths(layout)];
  refuseMovedCarveOuts(readOnlyPaths);
  mirrorMainRefs(layout, { top: record.repo, commonDir: record.commonDir }, record.branch);
  return {
    mechanism: GIT_MECHANISM,
    worktree: record.path,
    adminDir: layout.adminDir,
    commonDir: record.commonDir,
    branch: record.branch,
    writableRoots: [layout.adminDir, layout.shadowDir],
    readOnlyPaths,
    env: {},
  };
}

/**
 * The record of the task worktree at `workspace` and its `.git` file, adopting a plain
 * linked worktree on the way. The pointer only says where to look; the record found there
 * (in a directory the agent cannot write) must name this very worktree. With `adoptPlain`
 * false, a plain worktree not adopted yet is simply not recorded (a lookup, no writes).
 */
export function recordedWorktree(workspace: string, onAdopt?: AdoptionListener, adoptPlain = true): { record: WorktreeRecord; pointer: string } | undefined {
  // A missing or odd workspace is buildPolicy's to report; here it is simply not a worktree.
  if (!existsSync(workspace) || !lstatSync(realpathSync(workspace)).isDirectory()) return undefined;
  const worktree = realpathSync(workspace);
  const pointer = join(worktree, '.git');
  if (!existsSync(pointer) || !lstatSync(pointer).isFile()) return undefined;
  const m = /^gitdir: (.+)$/m.exec(readFileSync(pointer, 'utf8'));
  if (!m) return undefined;
  const adminDir = m[1]!.trim();
  if (basename(adminDir) !== 'admin') {
    const plain = plainWorktreeAt(worktree, adminDir);
    if (!plain) return undefined;
    if (!adoptPlain) {
      const record = readRecord(plain.commonDir, basename(plain.adminDir));
      return record?.adoptedAdminDir === plain.adminDir && record.path === worktree ? { record, pointer } : undefined;
    }
    const adoption = adopt(plain);
    if (!adoption) return undefined;
    if (adoption.adoptedNow) onAdopt?.(adoption.record);
    return { record: adoption.record, pointer };
  }
  const container = dirname(adminDir);
  const name = basename(container);
  const commonDir = dirname(dirname(dirname(container)));
  if (basename(dirname(container)) !== 'worktrees' || basename(dirname(dirname(container))) !== 'celistra') return undefined;
  if (!existsSync(commonDir)) return undefined;
  const realCommon = realpathSync(commonDir);
  const record = readRecord(realCommon, name);
  if (!record || record.path !== worktree || record.commonDir !== realCommon || record.adoptedAdminDir) return undefined;
  const layout = layoutFor(record.commonDir, name);
  if (!existsSync(adminDir) || realpathSync(adminDir) !== layout.adminDir) return undefined;
  return { record, pointer };
}

/**
 * A carve-out protects the path the backend binds read-only; if an earlier unfenced run
 * replaced one with a symlink (or a directory on the way with one), the bind would land
 * elsewhere. Each must be its own realpath.
 */
function refuseMovedCarveOuts(paths: string[]): void {
  for (const p of paths) {
    const real = existsSync(p) ? realpathSync(p) : undefined;
    if (real !== p) {
      throw new CelistraError('E_GIT', `the git state of this task worktree was tampered with: ${p} ${real ? `resolves to ${real}` : 'is missing'}`, 'inspect it by hand, or remove the worktree with `celistra worktree rm NAME --force`');
    }
  }
}
