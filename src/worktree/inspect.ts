import { existsSync, lstatSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CelistraError } from '../policy/errors.js';
import { alternatesList, git, gitTry, type GitRunOptions } from './git.js';
import { layoutOf, type WorktreeRecord } from './record.js';
import { readAgentTip, readWorktreeHead, verifyShadowObjectStore } from './shadow.js';
import { pinSubmoduleNames } from './submodule-pins.js';
import { guardHostGit, guardNote, type HostGitGuardReport } from './host-git-guard.js';
import { hasLiveLease } from './lease-liveness.js';

/**
 * The host's view of a task worktree. Host git never opens the agent's git dirs as a
 * repository: it runs against the main git dir (which no agent can write), reads the
 * agent's objects through GIT_ALTERNATE_OBJECT_DIRECTORIES, takes the agent's branch tip
 * as a commit id, and builds its own index of the worktree in a private temp dir.
 */
export interface HostView {
  record: WorktreeRecord;
  /** The agent's branch tip in its shadow (undefined if the agent deleted its branch). */
  tip: string | undefined;
  /** The commit checked out in the worktree (usually the tip; another branch or detached). */
  head: string | undefined;
  /** Options for git reading the main repository plus the agent's objects. */
  read: GitRunOptions;
  /** What was done to the task's git state so that the user's own git there runs nothing of the agent's. */
  guard: HostGitGuardReport;
}

export function hostView(record: WorktreeRecord): HostView {
  const layout = layoutOf(record);
  verifyShadowObjectStore(layout, record.commonDir);
  // The guard goes first: state it moves aside (a rebase dir the agent made unreadable,
  // say) is no longer the user's git's to read, so the pins scan need not refuse over it.
  const guard = guardHostGit(record, layout, hasLiveLease(layout));
  // Every host-side command on a task refreshes what the user's own git there ignores.
  refreshPins(record, guard);
  return {
    guard,
    record,
    tip: readAgentTip(layout, record.branch),
    head: readWorktreeHead(layout),
    read: {
      cwd: record.repo,
      gitDir: record.commonDir,
      env: { GIT_ALTERNATE_OBJECT_DIRECTORIES: alternatesList([join(layout.shadowDir, 'objects')]) },
    },
  };
}

/**
 * The pins refreshed; a refusal there still tells what the guard did just before (state it
 * moved to the quarantine, and how to put it back), which the refused command would
 * otherwise never print.
 */
function refreshPins(record: WorktreeRecord, guard: HostGitGuardReport): void {
  try {
    pinSubmoduleNames(record);
  } catch (e) {
    const done = guardNote(record.name, guard).trimEnd();
    if (!(e instanceof CelistraError) || !done) throw e;
    throw new CelistraError(e.code, e.message, e.hint ? `${e.hint}\n${done}` : done);
  }
}

export function requireTip(view: HostView): string {
  if (!view.tip) {
    throw new CelistraError('E_GIT', `the task branch ${view.record.branch} no longer exists in worktree "${view.record.name}"`, 'recreate it inside the worktree (git switch -c ...)');
  }
  return view.tip;
}

/** The commit the task's changes are measured against: where it forked from its base. */
function forkPoint(view: HostView, tip: string): string {
  const current = view.record.baseRef ? gitTry(['rev-parse', '--verify', '-q', `${view.record.baseRef}^{commit}`], view.read) : undefined;
  const base = current?.status === 0 ? current.stdout.trim() : view.record.baseCommit;
  const mb = gitTry(['merge-base', base, tip], view.read);
  return mb.status === 0 ? mb.stdout.trim() : view.record.baseCommit;
}

/**
 * A throwaway index of the worktree, built from a commit of the task and refreshed against
 * the files (content hashed, nothing written to any object store), handed to `use`
 * with options whose new objects go to a private dir. Git "freshens" (touches) an
 * existing object it is asked to write, so writing is left to what `use` really needs.
 */
function withWorktreeIndex<T>(view: HostView, commit: string, use: (opts: GitRunOptions) => T): T {
  const scratch = mkdtempSync(join(tmpdir(), 'celistra-view-'));
  try {
    const objects = join(scratch, 'objects');
    mkdirSync(objects);
    const layout = layoutOf(view.record);
    const opts: GitRunOptions = {
      cwd: view.record.path,
      gitDir: view.record.commonDir,
      workTree: view.record.path,
      env: {
        GIT_INDEX_FILE: join(scratch, 'index'),
        GIT_OBJECT_DIRECTORY: objects,
        GIT_ALTERNATE_OBJECT_DIRECTORIES: alternatesList([join(view.record.commonDir, 'objects'), join(layout.shadowDir, 'objects')]),
      },
    };
    git(['read-tree', commit], opts);
    skipGitlinks(opts);
    gitTry(['update-index', '-q', '--refresh'], opts);
    return use(opts);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/**
 * `git add` enters every gitlinked repository it finds checked out to ask whether it is
 * dirty (it ignores every ignore-submodules setting), and that git obeys the nested
 * repository's config. Marked skip-worktree in the private index, gitlinks are left as
 * the commit has them: a nested repository's own uncommitted state is not part of the
 * view (its commit recorded by the task is; `nestedRepositories` names it).
 */
function skipGitlinks(opts: GitRunOptions): void {
  const gitlinks = git(['ls-files', '--stage', '-z'], opts)
    .split('\0')
    .flatMap((e) => /^160000 [0-9a-f]+ \d\t(.+)$/s.exec(e)?.[1] ?? []);
  if (gitlinks.length > 0) git(['update-index', '--skip-worktree', '-z', '--stdin'], { ...opts, input: `${gitlinks.join('\0')}\0` });
}

/** Uncommitted work: tracked files that differ from the worktree's HEAD, or new files not ignored. */
function hasUncommittedWork(view: HostView, head: string): boolean {
  return withWorktreeIndex(view, head, (opts) => {
    // On the command line, ignore-submodules outranks a .gitmodules `ignore` (the agent's).
    if (gitTry(['diff-index', '--quiet', '--ignore-submodules=all', head, '--'], opts).status !== 0) return true;
    const included = new Set(includedNotIn(head, view));
    const others = git(['ls-files', '-z', '--others', '--exclude-standard'], opts).split('\0').filter(Boolean);
    return others.some((p) => !included.has(p));
  });
}

const literal = (p: string) => `:(literal)${p}`;

/** The copied-in local files that the task has not committed (those are its work). */
function includedNotIn(tip: string, view: HostView): string[] {
  if (view.record.included.length === 0) return [];
  const committed = new Set(git(['ls-tree', '-r', '-z', '--name-only', tip, '--', ...view.record.included.map(literal)], view.read).split('\0'));
  return view.record.included.filter((p) => !committed.has(p));
}

export interface WorktreeState {
  exists: boolean;
  tip: string | null;
  /** Changes not committed to the worktree's HEAD (new files not ignored included). Null when the worktree is gone. */
  dirty: boolean | null;
  /** Commits on the task branch not on its base, and on the base not on the task branch. */
  ahead: number | null;
  behind: number | null;
  /** Commits of the task branch that the main repository does not have yet. */
  unharvested: number | null;
  /** Nested repositories in the task (nestedRepositories): review them before running git in them. */
  nested: string[];
  /** Gitlinks marked skip-worktree, git state moved to the quarantine, and what could not be guarded (host-git-guard.ts). */
  gitGuard: HostGitGuardReport;
}

export function worktreeState(view: HostView): WorktreeState {
  const exists = existsSync(join(view.record.path, '.git'));
  const tip = view.tip ?? null;
  if (!tip) return { exists, tip, dirty: null, ahead: null, behind: null, unharvested: null, nested: [], gitGuard: view.guard };
  const base = view.record.baseRef ?? view.record.baseCommit;
  const counts = gitTry(['rev-list', '--left-right', '--count', `${tip}...${base}`], view.read);
  const [ahead, behind] = counts.status === 0 ? counts.stdout.trim().split(/\s+/).map(Number) : [null, null];
  const notInMain = git(['rev-list', '--count', tip, '--not', '--all'], view.read).trim();
  const dirty = exists ? hasUncommittedWork(view, view.head ?? tip) : null;
  return { exists, tip, dirty, ahead: ahead ?? null, behind: behind ?? null, unharvested: Number(notInMain), nested: nestedRepositories(view), gitGuard: view.guard };
}

/**
 * A gitlink the task added or moved is part of its changes (`Subproject commit ...`).
 * These diffs compare trees and the private index only, so git never enters the nested
 * repository (nor reads its config) to show them.
 */
const SHOW_GITLINKS = '--ignore-submodules=none';

/** The task's changes against its fork point: commits plus uncommitted work. */
export function worktreeDiff(view: HostView, stat: boolean): string {
  return worktreeDiffs(view, [stat ? ['--stat'] : []])[0]!;
}

/**
 * The task's changes in several `git diff` output formats (`[]` the patch, `['--numstat']`
 * per file, ...), from one throwaway index: one answer per format, in order.
 */
export function worktreeDiffs(view: HostView, formats: string[][]): string[] {
  const tip = requireTip(view);
  const from = forkPoint(view, tip);
  if (!existsSync(join(view.record.path, '.git'))) {
    return formats.map((format) => git(['diff', '--no-ext-diff', '--no-textconv', SHOW_GITLINKS, ...format, from, tip], view.read));
  }
  return withWorktreeIndex(view, tip, (opts) => {
    addWorktree(opts);
    const untrackedIncluded = includedNotIn(tip, view);
    if (untrackedIncluded.length > 0) git(['rm', '-q', '--cached', '--ignore-unmatch', '--', ...untrackedIncluded.map(literal)], opts);
    return formats.map((format) => git(['diff', '--cached', '--no-ext-diff', '--no-textconv', SHOW_GITLINKS, ...format, from], { ...opts, cwd: view.record.repo }));
  });
}

/** What git says of a FIFO, socket or device it was asked to add. */
const NOT_ADDABLE = /^error: (.+): can only add regular files, symbolic links or git-directories$/;

/**
 * Stage the whole worktree into the throwaway index. A FIFO or socket there (a dev
 * server's socket, a test runner's pipe) is not content git can hold, and `git add`
 * fails on it: it is left out, as `git status` leaves it out, and a tracked file it
 * replaced counts as deleted. Any other error still fails the diff.
 */
function addWorktree(opts: GitRunOptions): void {
  const r = gitTry(['add', '-A', '--ignore-errors', '.'], opts);
  if (r.status === 0) return;
  const lines = r.stderr.split('\n').filter((l) => l && !l.startsWith('fatal: adding files failed'));
  const special = lines.map((l) => NOT_ADDABLE.exec(l)?.[1]);
  if (special.length === 0 || special.some((p) => p === undefined)) {
    throw new CelistraError('E_GIT', `git add failed: ${lines.slice(-3).join('; ') || `exit status ${r.status}`}`);
  }
  git(['rm', '-q', '--cached', '--ignore-unmatch', '--', ...(special as string[]).map(literal)], opts);
}

/**
 * Nested repositories in a task: gitlinks in its branch (a commit of another repository,
 * shown by no diff here since host git ignores submodules) and directories in the worktree
 * holding a `.git` of their own. Each carries a config the agent wrote: your own git,
 * recursing into them by hand (`--recurse-submodules`, `--ignore-submodules=none`), would
 * obey it. Listed so that a review sees them.
 */
export function nestedRepositories(view: HostView): string[] {
  const found = new Set<string>();
  if (view.tip) {
    for (const entry of git(['ls-tree', '-r', '-z', '--full-tree', view.tip], view.read).split('\0')) {
      const m = /^160000 commit [0-9a-f]+\t(.+)$/s.exec(entry);
      if (m) found.add(`${m[1]} (gitlink)`);
    }
  }
  if (existsSync(join(view.record.path, '.git')) && (view.head ?? view.tip)) {
    withWorktreeIndex(view, (view.head ?? view.tip)!, (opts) => {
      for (const p of git(['ls-files', '-z', '--others', '--directory', '--no-empty-directory'], opts).split('\0')) {
        if (p.endsWith('/') && lstatSync(join(view.record.path, p, '.git'), { throwIfNoEntry: false })) found.add(`${p.slice(0, -1)} (repository in the worktree)`);
      }
    });
  }
  return [...found].sort();
}

/** What `diff`, `worktree ls` and `pull` say about nested repositories (empty when there are none). */
export function nestedRepositoriesNote(name: string, nested: string[]): string {
  if (nested.length === 0) return '';
  return `celistra: note: task "${name}" holds ${nested.length} nested git repositor${nested.length === 1 ? 'y' : 'ies'}: ${nested.join(', ')}. Their content is not in this diff, and each has a config the agent wrote: do not run git in them, or with --recurse-submodules, before you have read them.\n`;
}
