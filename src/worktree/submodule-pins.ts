import { closeSync, constants, existsSync, fstatSync, openSync, realpathSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { alternatesList, gitTry, type GitRunOptions } from './git.js';
import { IncompleteRead, ReadBudget, readFileNoFollow, readSmallFilesNoFollow, sizeText } from '../fs/tree-read.js';
import { openRegularBehindLink } from '../fs/link-target.js';
import { openRegularNoFollow } from '../fs/open-regular.js';
import { openDirNoFollow, procFdWorks } from '../fs/tree-remove.js';
import { CelistraError } from '../policy/errors.js';
import { layoutOf, type WorktreeLayout, type WorktreeRecord } from './record.js';

/**
 * Submodule names pinned to `ignore = all` for the user's own git in a task worktree.
 *
 * The task's git config (Celistra's, read-only in the fence) sets
 * `diff.ignoreSubmodules=all`, so a plain `git status` there never enters a nested
 * repository — whose config the agent wrote (`core.fsmonitor` is a command). But git lets
 * a per-submodule `ignore` in `.gitmodules` override that default, and `.gitmodules` is
 * the agent's. Only `submodule.<name>.ignore` in a config file outranks `.gitmodules`,
 * and it is keyed by the name the agent chose: git 2.39 has no setting that holds for
 * every name (tried: `submodule.active`, `submodule.<name>.active`, `core.fsmonitor`,
 * `status.*`; none reaches the nested repository's own `git status`).
 *
 * So every name the agent could have made git use is pinned. Git takes `.gitmodules`
 * from the worktree, else the index, else HEAD, and `checkout`, `stash`, `reset` put any
 * commit's copy in the worktree: the names come from the worktree file, the index, and
 * every `.gitmodules` in the history of every commit the task's git state mentions (refs,
 * reflogs, HEAD, rebase and merge state). The agent creates these only while it runs, so
 * pinning before and after every fenced run and in every host-side command (ls, diff,
 * pull, rm) covers all names, except one made while an agent runs and read by your git
 * before that run ends (docs/git-in-the-fence.md).
 *
 * The pins live in the host-owned container (`submodule-pins.config`, included by the
 * shadow config); `submodule-pins.json` remembers what was already scanned so that a
 * refresh reads only history that is new.
 */

const PINS_CONFIG = 'submodule-pins.config';
const PINS_STATE = 'submodule-pins.json';
/** How the shadow config includes the pins (relative to the shadow config: the container). */
export const PINS_INCLUDE = `../${PINS_CONFIG}`;

/**
 * Names are kept as latin1 strings (one char per byte: git keys a subsection by its bytes,
 * and a name need not be UTF-8) and written back in latin1. A state without `bytes` came
 * from a version that decoded them as UTF-8: those are turned back into their bytes.
 */
interface PinState {
  bytes?: true;
  /** Commits whose history was scanned for `.gitmodules`. */
  scanned: string[];
  /** `.gitmodules` blobs already read. */
  blobs: string[];
  names: string[];
}

/** What host git may read of the task's objects (the main store plus the shadow's). */
function readOptions(record: WorktreeRecord, layout: WorktreeLayout): GitRunOptions {
  return { cwd: record.repo, gitDir: record.commonDir, env: { GIT_ALTERNATE_OBJECT_DIRECTORIES: alternatesList([join(layout.shadowDir, 'objects')]) } };
}

const OBJECT_ID = /\b(?:[0-9a-f]{64}|[0-9a-f]{40})\b/g;
const MAX_STATE_FILE = 16 * 1024 * 1024;
const MAX_INDEX_FILE = 1024 * 1024 * 1024;

/**
 * Refresh the pins of a task worktree; returns every name pinned. The caller has checked
 * the shadow's object store (verifyShadowObjectStore) before host git reads through it.
 */
export function pinSubmoduleNames(record: WorktreeRecord): string[] {
  const layout = layoutOf(record);
  const read = readOptions(record, layout);
  const state = readState(layout);
  const names = new Set(state.names);
  const blobs = new Set<string>();

  const within = agentTrees(record, layout);
  const mentioned = mentionedIds(layout, record, within);
  const { commits: existing, trees, blobs: mentionedBlobs } = existingObjects([...mentioned, ...state.scanned], read);
  const commits = [...mentioned].filter((c) => existing.has(c)).sort();
  const scanned = new Set(state.scanned);
  const fresh = commits.filter((c) => !scanned.has(c));
  // A commit scanned before and gone since (gc) cannot bound the walk: git would refuse it.
  if (fresh.length > 0) for (const b of historyBlobs(fresh, state.scanned.filter((c) => existing.has(c)), read)) blobs.add(b);
  for (const b of indexBlobs(layout, record)) blobs.add(b);
  // A tree or blob a ref names: a replace ref (refs/replace/<id>, which your git applies and
  // host git, reading through the main repository, does not) or a tag can put it where
  // your git reads .gitmodules. Read as config, any blob at worst pins a name too many.
  for (const b of mentionedBlobs) blobs.add(b);
  for (const b of treeGitmodules(trees, read)) blobs.add(b);

  const readBlobs = new Set(state.blobs);
  for (const blob of blobs) {
    if (readBlobs.has(blob)) continue;
    // Whatever git printed, even when it then stopped at a syntax error: git's own read of
    // a .gitmodules blob (index or HEAD) keeps the entries before the error in force.
    const listed = gitTry(['config', '--blob', blob, '--name-only', '--list', '-z'], { ...read, encoding: 'latin1' });
    for (const n of submoduleNames(listed.stdout)) names.add(n);
    readBlobs.add(blob);
  }
  // As git reads it: through a link too (its target may be a file the agent wrote elsewhere),
  // but only a regular file, and nothing else opened on the way (a FIFO there hung every
  // host command; a terminal there became the daemon's).
  // Git reads the open file itself, whatever its size (a cap would let a padded file by).
  const fd = openWorktreeGitmodules(record, within);
  if (fd !== undefined) {
    try {
      const listed = gitTry(['config', '--file', '-', '--name-only', '--list', '-z'], { cwd: record.repo, stdin: fd, encoding: 'latin1' });
      for (const n of submoduleNames(listed.stdout)) names.add(n);
    } finally {
      closeSync(fd);
    }
  }

  const sorted = [...names].sort();
  // Written only when a name is new: a refusing command (pull, rm) must change nothing
  // else. The scan state then lags, which costs a longer scan, never a missed name.
  if (sorted.length !== state.names.length || !state.bytes || !existsSync(join(layout.container, PINS_CONFIG))) {
    const next: PinState = { bytes: true, scanned: fresh.length > 0 ? commits : state.scanned, blobs: [...readBlobs].sort(), names: sorted };
    writeAtomically(join(layout.container, PINS_CONFIG), Buffer.from(pinsConfig(sorted), 'latin1'));
    writeAtomically(join(layout.container, PINS_STATE), JSON.stringify(next));
  }
  return sorted;
}

function readState(layout: WorktreeLayout): PinState {
  const raw = readFileNoFollow(join(layout.container, PINS_STATE), MAX_STATE_FILE);
  if (!raw) return { scanned: [], blobs: [], names: [] };
  try {
    const s = JSON.parse(raw.toString('utf8')) as PinState;
    if (Array.isArray(s.scanned) && Array.isArray(s.blobs) && Array.isArray(s.names)) {
      return s.bytes ? s : { ...s, names: s.names.map((n) => Buffer.from(n, 'utf8').toString('latin1')) };
    }
  } catch {
    // a damaged state is rebuilt from scratch
  }
  return { scanned: [], blobs: [], names: [] };
}

/**
 * The bounds of the scan of the task's git state (mentionedIds). They fit a task's own refs,
 * reflogs and sequencer state with a wide margin, and the mirror of a big repository's refs
 * (one packed-refs file). They keep an agent that plants thousands of big or sparse files
 * from making every host command on its task slow or memory-hungry; past them the scan
 * fails closed (refusal, never pins made from a part): docs/git-in-the-fence.md.
 */
export const SCAN_LIMITS = { maxEntries: 50_000, maxTotalBytes: 256 * 1024 * 1024, maxFileBytes: 64 * 1024 * 1024, maxDepth: 32 } as const;

/**
 * Every object id named anywhere in the task's git state except its objects: refs,
 * packed-refs, reflogs, HEAD, ORIG_HEAD, rebase and merge state, in the shadow and the
 * admin dir. Read as data, never following a link. A state that does not fit the bounds,
 * or that cannot be read (a directory made unreadable), is refused: pins made from part
 * of it could miss a name the user's git then reads.
 */
function mentionedIds(layout: WorktreeLayout, record: WorktreeRecord, within: readonly string[]): Set<string> {
  const ids = new Set<string>();
  const collect = (_: string, content: Buffer) => {
    for (const m of content.toString('latin1').matchAll(OBJECT_ID)) ids.add(m[0]);
  };
  const limits = { maxFileBytes: SCAN_LIMITS.maxFileBytes, maxDepth: SCAN_LIMITS.maxDepth, budget: new ReadBudget(SCAN_LIMITS.maxEntries, SCAN_LIMITS.maxTotalBytes), onLink: linkAsGitReadsIt, linkTargetsWithin: within };
  try {
    readSmallFilesNoFollow(layout.shadowDir, { ...limits, skip: new Set(['objects', 'config', 'hooks', 'info']) }, collect);
    readSmallFilesNoFollow(layout.adminDir, { ...limits, skip: new Set(['index']) }, collect);
  } catch (e) {
    if (!(e instanceof IncompleteRead)) throw e;
    throw new CelistraError(
      'E_GIT',
      `the git state of task worktree "${record.name}" cannot be checked for submodule names: ${e.message}`,
      `Celistra reads at most ${SCAN_LIMITS.maxEntries} entries and ${sizeText(SCAN_LIMITS.maxTotalBytes)} there (${sizeText(SCAN_LIMITS.maxFileBytes)} a file, ${SCAN_LIMITS.maxDepth} levels deep), and does not guess past that; do not run git by hand in ${record.path}: remove what the agent planted there and run the command again, or remove the worktree with \`celistra worktree rm --force ${record.name}\` (its unharvested commits are then lost)`,
    );
  }
  return ids;
}

/**
 * Where a link the scan reads through may lead: the task's worktree and its git dirs, the
 * trees this agent writes. Anywhere else is a file the host would read with its own rights
 * for the agent (the fence may deny it; the pins, which the agent reads, would carry its
 * section names), or a kernel file whose read acts.
 */
function agentTrees(record: WorktreeRecord, layout: WorktreeLayout): string[] {
  return [record.path, layout.shadowDir, layout.adminDir].flatMap((p) => {
    try {
      return [realpathSync(p)];
    } catch {
      return [];
    }
  });
}

/**
 * How git reads a link in its state: one whose text is a ref name (`refs/...`, git's old
 * symbolic refs) names that ref, read from the tree scanned here, and is never opened.
 * Any other link git opens and reads wherever it points (a file the agent wrote in its
 * worktree, say), so the scan reads it too: a commit named only there is still pinned.
 */
const SYMREF_TEXT = /^refs\/(?:[A-Za-z0-9_-][A-Za-z0-9._-]*\/)*[A-Za-z0-9_-][A-Za-z0-9._-]*$/;
function linkAsGitReadsIt(target: string): 'skip' | 'read' {
  return SYMREF_TEXT.test(target) && !target.includes('..') && !/\.lock(?:\/|$)/.test(target) ? 'skip' : 'read';
}

/** Those of `ids` in the task's object stores, by type: commits (and tags), trees, blobs. */
function existingObjects(ids: string[], read: GitRunOptions): { commits: Set<string>; trees: string[]; blobs: string[] } {
  const found = { commits: new Set<string>(), trees: [] as string[], blobs: [] as string[] };
  if (ids.length === 0) return found;
  const typed = gitTry(['cat-file', '--batch-check=%(objectname) %(objecttype)'], { ...read, input: `${[...new Set(ids)].join('\n')}\n` });
  const tags: string[] = [];
  const sort = (stdout: string) => {
    for (const line of stdout.split('\n')) {
      const [id, type] = line.split(' ');
      if (!id) continue;
      if (type === 'commit') found.commits.add(id);
      else if (type === 'tag') tags.push(id);
      else if (type === 'tree') found.trees.push(id);
      else if (type === 'blob') found.blobs.push(id);
    }
  };
  sort(typed.stdout);
  // A tag stands for what it peels to: a commit (the history walk takes the tag itself),
  // or a tree or blob that no commit holds (`git restore --source=<tag>` reads it).
  for (const t of tags) found.commits.add(t);
  if (tags.length > 0) sort(gitTry(['cat-file', '--batch-check=%(objectname) %(objecttype)'], { ...read, input: `${tags.map((t) => `${t}^{}`).join('\n')}\n` }).stdout.replace(/^\S+ tag$/gm, ''));
  return found;
}

/** The `.gitmodules` blobs at the top of `trees`. */
function treeGitmodules(trees: string[], read: GitRunOptions): string[] {
  if (trees.length === 0) return [];
  const entries = gitTry(['cat-file', '--batch-check=%(objectname) %(objecttype)'], { ...read, input: `${trees.map((t) => `${t}:.gitmodules`).join('\n')}\n` });
  return entries.stdout.split('\n').flatMap((line) => (line.endsWith(' blob') ? [line.slice(0, -' blob'.length)] : []));
}

/** The `.gitmodules` blobs in the history of `tips`, not looking below what was scanned before. */
function historyBlobs(tips: string[], scannedBefore: string[], read: GitRunOptions): string[] {
  const input = [...tips, ...scannedBefore.map((c) => `^${c}`)].join('\n');
  // Every version: merges against each parent (-m) and no simplification, since a merge
  // or a side branch can carry a .gitmodules of its own.
  const cfg = ['-c', 'log.showRoot=true', '-c', 'log.follow=false', '-c', 'diff.renames=false'];
  const log = gitTry([...cfg, 'log', '--stdin', '--ignore-missing', '--full-history', '-m', '--no-renames', '--format=', '--raw', '--no-abbrev', '-z', '--', '.gitmodules'], { ...read, input: `${input}\n` });
  // The agent writes objects: a commit whose parent or tree is missing stops the walk
  // (git says 'cannot simplify commit', or 'bad object'), and every other commit's
  // .gitmodules would go unread. Then every commit in the stores is looked at instead.
  if (log.status !== 0) return everyCommitsBlobs(read);
  const blobs = new Set<string>();
  for (const field of log.stdout.split('\0')) {
    const m = /^:\d+ \d+ ([0-9a-f]+) ([0-9a-f]+) /.exec(field);
    if (!m) continue;
    for (const id of [m[1]!, m[2]!]) if (!/^0+$/.test(id)) blobs.add(id);
  }
  return [...blobs];
}

/**
 * The `.gitmodules` blob of every commit in the task's object stores (the main store and
 * the shadow's), reachable or not: what git could check out, whatever the history's state.
 */
function everyCommitsBlobs(read: GitRunOptions): string[] {
  const all = gitTry(['cat-file', '--batch-all-objects', '--unordered', '--batch-check=%(objectname) %(objecttype)'], read);
  const commits = all.stdout.split('\n').flatMap((line) => (line.endsWith(' commit') ? [line.slice(0, -' commit'.length)] : []));
  return [...new Set(treeGitmodules(commits, read))];
}

/** The `.gitmodules` entries of the worktree's index (the agent's), read by git through one descriptor of Celistra's. */
function indexBlobs(layout: WorktreeLayout, record: WorktreeRecord): string[] {
  const indexFile = join(layout.adminDir, 'index');
  // Opened once, never through a link nor as anything but a regular file; git then reads
  // that very file (its stdin: /dev/stdin is the descriptor) whatever the agent renames
  // meanwhile, mapping it as it does its own index: no copy, nothing read into memory here
  // (the daemon's stat does this every few seconds while the agent runs).
  const fd = openRegularNoFollow(indexFile);
  if (fd === undefined) return [];
  try {
    // Git reads an index of any size (a huge optional extension of zeros is skipped): one
    // past the bound is refused, never left unread (its .gitmodules names unpinned).
    const size = fstatSync(fd).size;
    if (size > MAX_INDEX_FILE) {
      throw new CelistraError('E_GIT', `the git state of task worktree "${record.name}" cannot be checked for submodule names: ${indexFile} is larger than the ${sizeText(MAX_INDEX_FILE)} the scan reads (${size} bytes)`, `do not run git by hand in ${record.path}: remove that index (git rebuilds one with \`git reset\`) and run the command again`);
    }
    const listed = gitTry(['ls-files', '--stage', '-z', '--', ':(literal).gitmodules'], {
      cwd: record.repo,
      gitDir: record.commonDir,
      env: { GIT_INDEX_FILE: '/dev/stdin' },
      stdin: fd,
    });
    return listed.stdout.split('\0').flatMap((e) => /^\d+ ([0-9a-f]+) \d\t/.exec(e)?.[1] ?? []);
  } finally {
    closeSync(fd);
  }
}

/**
 * The worktree's `.gitmodules` opened for reading as git would reach it, through a link too; undefined
 * for anything else (a FIFO, a device, a directory) or nothing. A plain open following the
 * link would act on a device before fstat could refuse it: a FIFO's writer goes on, and a
 * terminal without a session becomes the controlling terminal of a session leader that
 * opens it (the detached daemon is one, and its background stat reads this while the
 * agent runs), whose ^C then signals that process. So the link is resolved a step at a time (link-target.ts), opening only a
 * regular file at its end, and one that lies outside `within` is refused (E_GIT). Where
 * /proc is missing (macOS) it is opened following the link, without waiting and never as
 * a controlling terminal.
 */
function openWorktreeGitmodules(record: WorktreeRecord, within: readonly string[]): number | undefined {
  const dir = record.path;
  const name = '.gitmodules';
  if (procFdWorks()) {
    let dirFd: number | undefined;
    try {
      dirFd = openDirNoFollow(dir);
    } catch {
      return undefined;
    }
    if (dirFd === undefined) return undefined;
    try {
      const opened = openRegularBehindLink(`/proc/self/fd/${dirFd}`, name, within);
      if ('fd' in opened) return opened.fd;
      if (opened.outside) {
        throw new CelistraError(
          'E_GIT',
          `the git state of task worktree "${record.name}" cannot be checked for submodule names: its ${name} is a link that ${opened.refused}`,
          `your git there would read that file for submodules, and Celistra does not read host files on the agent's behalf (the names it pins reach the agent); do not run git by hand in ${record.path}: remove the link (${join(dir, name)}) and run the command again`,
        );
      }
      return undefined;
    } finally {
      closeSync(dirFd);
    }
  }
  let fd: number;
  try {
    fd = openSync(join(dir, name), constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch {
    return undefined;
  }
  if (fstatSync(fd).isFile()) return fd;
  closeSync(fd);
  return undefined;
}

/** Names of `submodule.<name>.<key>` entries in `git config --name-only --list -z` output. */
function submoduleNames(listed: string): string[] {
  const names: string[] = [];
  for (const key of listed.split('\0')) {
    const last = key.lastIndexOf('.');
    if (key.toLowerCase().startsWith('submodule.') && last >= 'submodule.'.length) names.push(key.slice('submodule.'.length, last));
  }
  return names;
}

function pinsConfig(names: string[]): string {
  const quoted = (n: string) => n.replace(/[\\"]/g, (c) => `\\${c}`);
  const sections = names.map((n) => `[submodule "${quoted(n)}"]\n\tignore = all\n\tfetchRecurseSubmodules = false\n`);
  return `# Written by Celistra (src/worktree/submodule-pins.ts): every submodule name this task's\n# .gitmodules used, so that your git never enters the nested repository to check it.\n${sections.join('')}`;
}

function writeAtomically(file: string, content: string | Buffer): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, content, { mode: 0o644 });
  renameSync(tmp, file);
}

/** Whether the shadow config already includes the pins (older shadows do not). */
export function includesPins(shadowConfigText: string): boolean {
  return shadowConfigText.includes(PINS_CONFIG);
}
