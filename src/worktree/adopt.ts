import { randomBytes } from 'node:crypto';
import { existsSync, lstatSync, readFileSync, realpathSync as realpathSyncJs, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { CelistraError } from '../policy/errors.js';
import { removeTree } from '../fs/tree-remove.js';
import { gitTry } from './git.js';
import { layoutFor, layoutOf, readRecord, validateWorktreeName, writeRecord, type WorktreeLayout, type WorktreeRecord } from './record.js';
import { findMainRepo } from './repo.js';
import { createShadow, readAgentTip } from './shadow.js';
import { importAgentObjects } from './harvest.js';
import { hostView, type HostView } from './inspect.js';
import { readFileNoFollow } from '../fs/tree-read.js';

// realpath(3): one call instead of a JS walk of every path component.
const realpathSync = realpathSyncJs.native;

/**
 * Adoption of a worktree made the plain way (`git worktree add ../p-task-1 -b agent/task-1
 * main`). Git keeps such a worktree's HEAD and index in `<main .git>/worktrees/<id>/` (its
 * admin dir) and shares everything else with the main repository, so a fenced agent
 * could commit only if the main repository's refs and objects were writable. On its
 * first fenced run Celistra gives it a shadow common dir of its own, exactly as for
 * `celistra worktree add` (docs/git-in-the-fence.md), and points the admin dir's
 * `commondir` there. Nothing else moves: the worktree's `.git` file and git's own
 * registration stay where git put them, so `git worktree list/remove` in the main
 * checkout keep working, and `git fetch ../p-task-1 agent/task-1:agent/task-1` takes the
 * agent's commits home (it reads the branch through that admin dir).
 *
 * Git refuses to fetch into a branch that any worktree has checked out. So the admin
 * dir's HEAD names the branch only while a fenced run uses the worktree: each run takes
 * a lease (a file named after the process that ends with the run), and the last run to
 * end detaches HEAD at the branch's tip. The next run attaches it again.
 */

export interface PlainWorktree {
  /** The worktree (realpath). */
  worktree: string;
  /** Its admin dir in the main repository, `<main .git>/worktrees/<id>` (realpath). */
  adminDir: string;
  /** The main repository's git dir (realpath). */
  commonDir: string;
}

/** What `adopt` did: made the shadow now, or found it made earlier. */
export interface Adoption {
  record: WorktreeRecord;
  adoptedNow: boolean;
}

/**
 * The plain linked worktree whose `.git` file is at `pointer`, or undefined when it is
 * not one (a Celistra worktree, a main checkout, a submodule, garbage). Read only.
 */
export function plainWorktreeAt(worktree: string, pointerTarget: string): PlainWorktree | undefined {
  const target = isAbsolute(pointerTarget) ? pointerTarget : resolve(worktree, pointerTarget);
  if (!lstatSync(target, { throwIfNoEntry: false })?.isDirectory()) return undefined;
  const adminDir = realpathSync(target);
  if (basename(dirname(adminDir)) !== 'worktrees') return undefined;
  const commonDir = dirname(dirname(adminDir));
  // git's own registration must name this very worktree: the pointer alone proves nothing.
  const gitdirFile = join(adminDir, 'gitdir');
  if (!lstatSync(gitdirFile, { throwIfNoEntry: false })?.isFile()) return undefined;
  const registered = readFileSync(gitdirFile, 'utf8').trim();
  if (!registered || !existsSync(registered) || realpathSync(registered) !== join(worktree, '.git')) return undefined;
  if (!lstatSync(join(commonDir, 'HEAD'), { throwIfNoEntry: false })?.isFile()) return undefined;
  return { worktree, adminDir, commonDir };
}

/** The Celistra name of an adopted worktree: git's id for it (the directory's name, made unique by git). */
function adoptedName(plain: PlainWorktree): string {
  return basename(plain.adminDir);
}

/**
 * The record of `plain`, adopting it first when it has none. Refuses (E_GIT) what it
 * cannot adopt safely; returns undefined when the worktree is on a detached HEAD (there
 * is no branch for the agent's commits: git stays read-only there, as before).
 */
export function adopt(plain: PlainWorktree): Adoption | undefined {
  const name = adoptedName(plain);
  validateWorktreeName(name);
  const layout = layoutFor(plain.commonDir, name);
  let existing = readRecord(plain.commonDir, name);
  if (existing && existing.adoptedAdminDir === plain.adminDir && existing.path === plain.worktree && !pointsAt(plain.adminDir, layout.shadowDir)) {
    // Either a crash came between the record and the switch (the switch is left to do),
    // or git removed the adopted worktree and made a new one under the same name.
    if (!headNames(plain.adminDir, existing.branch)) {
      forgetHarvested(existing, layout);
      existing = undefined;
    }
  }
  if (existing) {
    if (existing.adoptedAdminDir !== plain.adminDir || existing.path !== plain.worktree) {
      throw new CelistraError('E_CONFLICT', `the Celistra worktree "${name}" of ${existing.repo} is another worktree (${existing.path})`, `rename one of them: git worktree move ${plain.worktree} <new path>`);
    }
    pointAdminAt(plain.adminDir, layout.shadowDir);
    return { record: existing, adoptedNow: false };
  }
  if (existsSync(layout.container)) {
    throw new CelistraError('E_GIT', `${layout.container} exists without a record`, 'remove it by hand if no task uses it');
  }
  const head = readFileSync(join(plain.adminDir, 'HEAD'), 'utf8').trim();
  const m = /^ref: refs\/heads\/(\S+)$/.exec(head);
  if (!m) return undefined;
  const branch = m[1]!;
  const repo = findMainRepo(dirname(plain.commonDir));
  if (repo.commonDir !== plain.commonDir) return undefined;
  const main = { cwd: repo.top, gitDir: repo.commonDir };
  const tip = gitTry(['rev-parse', '--verify', '-q', `refs/heads/${branch}^{commit}`], main);
  if (tip.status !== 0) {
    throw new CelistraError('E_GIT', `branch ${branch} of worktree ${plain.worktree} has no commit`, 'commit something on it first (git commit --allow-empty)');
  }
  const tipCommit = tip.stdout.trim();
  const base = adoptionBase(main, tipCommit) ?? { name: branch, ref: `refs/heads/${branch}`, commit: tipCommit };
  const record: WorktreeRecord = {
    version: 1,
    name,
    repo: repo.top,
    commonDir: repo.commonDir,
    path: plain.worktree,
    branch,
    base: base.name,
    baseRef: base.ref,
    baseCommit: base.commit,
    included: [],
    createdAt: new Date().toISOString(),
    adoptedAdminDir: plain.adminDir,
    adoptedCommonDir: readFileSync(join(plain.adminDir, 'commondir'), 'utf8').trim(),
  };
  try {
    createShadow(layout, repo, branch, tipCommit);
    writeRecord(layout, record);
  } catch (e) {
    removeTree(layout.container);
    throw e;
  }
  pointAdminAt(plain.adminDir, layout.shadowDir);
  return { record, adoptedNow: true };
}

/**
 * What the task's changes are measured against (`celistra diff`): the main checkout's
 * current branch, which is what `git worktree add -b agent/x main` forks from in the
 * usual flow, when the task's branch descends from it; else nothing is known.
 */
function adoptionBase(main: { cwd: string; gitDir: string }, tip: string): { name: string; ref: string; commit: string } | undefined {
  const ref = gitTry(['symbolic-ref', '-q', 'HEAD'], main).stdout.trim();
  if (!ref.startsWith('refs/heads/')) return undefined;
  const mb = gitTry(['merge-base', ref, tip], main);
  if (mb.status !== 0) return undefined;
  return { name: ref.slice('refs/heads/'.length), ref, commit: mb.stdout.trim() };
}

function pointsAt(adminDir: string, shadowDir: string): boolean {
  const file = join(adminDir, 'commondir');
  return Boolean(lstatSync(file, { throwIfNoEntry: false })?.isFile()) && readFileSync(file, 'utf8').trim() === shadowDir;
}

/** HEAD names the branch (attached), as it does on every adopted worktree between the record and the switch. */
function headNames(adminDir: string, branch: string): boolean {
  const file = join(adminDir, 'HEAD');
  return Boolean(lstatSync(file, { throwIfNoEntry: false })?.isFile()) && readFileSync(file, 'utf8').trim() === `ref: refs/heads/${branch}`;
}

/**
 * The record of an adopted worktree that git has since removed: its shadow is dropped
 * once the main repository has the task's commits (the user fetched them); otherwise
 * they would be lost, so the user is told how to keep them.
 */
function forgetHarvested(record: WorktreeRecord, layout: WorktreeLayout): void {
  const tip = readAgentTip(layout, record.branch);
  const main = { cwd: record.repo, gitDir: record.commonDir };
  const merged = !tip || gitTry(['merge-base', '--is-ancestor', tip, `refs/heads/${record.branch}`], main).status === 0;
  if (!merged) {
    throw new CelistraError(
      'E_CONFLICT',
      `the earlier worktree "${record.name}" (${record.path}) was removed with commits on ${record.branch} that the main repository does not have`,
      `keep them with \`celistra pull ${record.name}\` or drop them with \`celistra worktree rm ${record.name} --force\`, then run again`,
    );
  }
  removeTree(layout.container);
}

/** Point the admin dir's commondir at the shadow (write-then-rename: git never sees half a file). */
function pointAdminAt(adminDir: string, shadowDir: string): void {
  const file = join(adminDir, 'commondir');
  const wanted = `${shadowDir}\n`;
  if (lstatSync(file, { throwIfNoEntry: false })?.isFile() && readFileSync(file, 'utf8') === wanted) return;
  replaceFile(file, wanted);
}

/**
 * Write-then-rename in a directory the agent can write (an adopted admin dir): the temp
 * name is unguessable and created exclusively (O_EXCL never follows a link the agent
 * planted under it), and the rename replaces the name itself, whatever it is.
 */
export function replaceFile(file: string, content: string): void {
  const tmp = `${file}.celistra-${randomBytes(8).toString('hex')}`;
  writeFileSync(tmp, content, { mode: 0o644, flag: 'wx' });
  try {
    renameSync(tmp, file);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

const COMMIT_ID = /^([0-9a-f]{40}|[0-9a-f]{64})$/;

/** Before a fenced run of an adopted worktree: put the branch back into HEAD when the last run detached it there. */
export function attachHead(record: WorktreeRecord, layout: WorktreeLayout): void {
  if (!record.adoptedAdminDir) return;
  const headFile = join(layout.adminDir, 'HEAD');
  const head = lstatSync(headFile, { throwIfNoEntry: false })?.isFile() ? readFileSync(headFile, 'utf8').trim() : '';
  if (COMMIT_ID.test(head) && head === readAgentTip(layout, record.branch)) replaceFile(headFile, `ref: refs/heads/${record.branch}\n`);
}

/**
 * After the last fenced run of an adopted worktree: detach HEAD at the branch's tip so
 * that the main checkout may fetch the branch. Leaves HEAD alone when it names anything
 * else (the agent switched branches: nothing then blocks a fetch).
 *
 * The main repository's git reads every worktree's HEAD (fetch negotiates with them, gc
 * keeps them), and would find a commit that exists only in this task's shadow: "bad
 * object", and every fetch in the main checkout fails. So the tip's objects are first
 * imported into the main store, verified (`index-pack --strict`, as `celistra pull`
 * does); no ref of the main repository moves.
 */
export function detachHead(record: WorktreeRecord, layout: WorktreeLayout): void {
  if (!record.adoptedAdminDir) return;
  const headFile = join(layout.adminDir, 'HEAD');
  if (!lstatSync(headFile, { throwIfNoEntry: false })?.isFile()) return;
  const head = readFileSync(headFile, 'utf8').trim();
  const view = hostView(record);
  const logged = reflogCommits(view, layout);
  // The agent left HEAD detached (a checkout --detach, a rebase cut short): main's git
  // reads that commit too, so it must be in the main store as well.
  if (COMMIT_ID.test(head)) {
    importAgentObjects({ ...view, tip: head }, logged);
    return;
  }
  if (logged.length > 0) importAgentObjects({ ...view, tip: logged[0] }, logged);
  if (head !== `ref: refs/heads/${record.branch}`) return;
  const tip = readAgentTip(layout, record.branch);
  if (!tip) return;
  importAgentObjects(view);
  replaceFile(headFile, `${tip}\n`);
}

/**
 * The commits the worktree's HEAD reflog names (in git's admin dir, so main's `git fsck`
 * and `gc` walk it as one of main's worktrees): an agent's commit that was reset or
 * amended away lives only in the shadow, and main's fsck then says "invalid reflog entry"
 * and gc "references pruned commits". Those present in the agent's store are imported too.
 */
function reflogCommits(view: HostView, layout: WorktreeLayout): string[] {
  const log = readFileNoFollow(join(layout.adminDir, 'logs', 'HEAD'), 64 * 1024 * 1024);
  if (!log) return [];
  const ids = new Set<string>();
  for (const line of log.toString('latin1').split('\n')) {
    for (const id of line.split(' ', 2)) if (COMMIT_ID.test(id) && !/^0+$/.test(id)) ids.add(id);
  }
  if (ids.size === 0) return [];
  const typed = gitTry(['cat-file', '--batch-check=%(objectname) %(objecttype)'], { ...view.read, input: `${[...ids].join('\n')}\n` });
  return typed.stdout.split('\n').flatMap((l) => (l.endsWith(' commit') ? [l.split(' ')[0]!] : []));
}

/** What a person is told, once, when their worktree is adopted. */
export function adoptionNotice(record: WorktreeRecord): string {
  return (
    `celistra: ${record.path} was made by \`git worktree add\`: it now keeps its git objects and refs in ${layoutOf(record).shadowDir} ` +
    `so the fenced agent can commit on ${record.branch} without write access to ${record.commonDir}. ` +
    `Take its commits home with \`git fetch ${record.path} ${record.branch}:${record.branch}\` (or \`celistra pull ${record.name}\`); ` +
    `\`git worktree remove\` works as before. Undo: \`celistra worktree release ${record.name}\`\n`
  );
}
