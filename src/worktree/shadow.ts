import { appendFileSync, closeSync, existsSync, lstatSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { CelistraError } from '../policy/errors.js';
import { git, gitTry } from './git.js';
import type { MainRepo } from './repo.js';
import type { WorktreeLayout } from './record.js';
import { unlinkBeneath } from '../fs/tree-remove.js';
import { readFileNoFollow } from '../fs/tree-read.js';
import { includesPins, PINS_INCLUDE } from './submodule-pins.js';
import { hooksPathOf, installGitlinkHook } from './gitlink-hook.js';

/**
 * The shadow common dir: a private git dir per task that borrows the main repository's
 * objects (read-only, through `objects/info/alternates`) and keeps its own objects and
 * refs. Its config is written by Celistra from an allow-list of the main config, has no
 * hooks, and is read-only inside the fence.
 */

/** Keys copied from the main repository's config; nothing here makes git run a program. */
const COPIED_CONFIG_KEYS = new Set([
  'core.repositoryformatversion',
  'core.filemode',
  'core.symlinks',
  'core.ignorecase',
  'core.precomposeunicode',
  'core.autocrlf',
  'core.eol',
  'core.safecrlf',
  'core.quotepath',
  'extensions.objectformat',
  'user.name',
  'user.email',
  'init.defaultbranch',
  'i18n.commitencoding',
  'i18n.logoutputencoding',
]);

/**
 * This config is also what the user's own git reads in the task worktree (`git status`
 * there, by hand, with default settings), so it keeps that git from running anything the
 * agent planted: a nested repository (committed as a gitlink, or not) carries a config of
 * its own — `core.fsmonitor` there is a command — and git recurses into submodules to
 * tell whether they are modified unless told to ignore them. The agent cannot change these
 * (the file is read-only in the fence). Not enough on its own: a `submodule.<name>.ignore`
 * in the `.gitmodules` the agent commits overrides this default, so the config includes
 * the names pinned back to `ignore = all` (worktree/submodule-pins.ts). `git status
 * --ignore-submodules=none` by hand still recurses (docs/git-in-the-fence.md).
 */
const RERERE_KEY = 'rerere.enabled';

const HOST_GIT_HARDENING: ReadonlyArray<[string, string]> = [
  ['diff.ignoresubmodules', 'all'],
  ['submodule.recurse', 'false'],
  ['status.submodulesummary', 'false'],
  ['fetch.recursesubmodules', 'false'],
  ['core.fsmonitor', 'false'],
  // Unset, git turns rerere on wherever the common dir has an `rr-cache/` — and the shadow
  // is the agent's to write: its planted resolutions would settle the conflicts of your own
  // merges, rebases and cherry-picks there ("Resolved 'x' using previous resolution").
  [RERERE_KEY, 'false'],
  ['include.path', PINS_INCLUDE],
];

const SHADOW_CONFIG: ReadonlyArray<[string, string]> = [
  ['core.bare', 'true'],
  ['core.logallrefupdates', 'true'],
  // `git gc` in a bare repository would refresh info/refs, which is read-only here.
  ['repack.updateserverinfo', 'false'],
  // ... and write objects/info/commit-graph: objects/info is read-only (it holds alternates).
  ['gc.writeCommitGraph', 'false'],
  ...HOST_GIT_HARDENING,
];


/**
 * Files and dirs of the shadow that the agent may read but never write. A carve-out is
 * only as strong as its parent: the agent can rename a writable parent away and put a
 * directory of its own making in its place. So each is a direct child of the shadow
 * (whose parent, the container, is not writable) — except `objects/info`, whose parent
 * `objects/` git must write. That one is carved out whole, so `mv objects/info` fails,
 * and the host checks the chain (verifyShadowObjectStore) before reading through it,
 * which catches `mv objects` too.
 */
export function shadowReadOnlyPaths(layout: WorktreeLayout): string[] {
  const s = layout.shadowDir;
  return [join(s, 'config'), join(s, 'hooks'), join(s, 'info'), join(s, 'worktrees'), shadowObjectsInfo(layout)];
}

function shadowObjectsInfo(layout: WorktreeLayout): string {
  return join(layout.shadowDir, 'objects', 'info');
}

/** The one line Celistra writes to the shadow's `objects/info/alternates`. */
function alternatesContent(commonDir: string): string {
  return `${join(commonDir, 'objects')}\n`;
}

/**
 * Host git reads the agent's objects through `<shadow>/objects`, and git follows the
 * `info/alternates` of every object dir it opens, recursively. Before any host git
 * reads through it, the chain must be exactly what Celistra made: real directories (no
 * symlink, no renamed-in replacement) and an alternates file naming only the main
 * repository's objects. Anything else is refused, not repaired: the host reads nothing.
 */
export function verifyShadowObjectStore(layout: WorktreeLayout, commonDir: string): void {
  const objects = join(layout.shadowDir, 'objects');
  const info = shadowObjectsInfo(layout);
  const alternates = join(info, 'alternates');
  const tampered = (what: string) =>
    new CelistraError(
      'E_GIT',
      `the object store of task worktree ${layout.container} was tampered with: ${what}`,
      `Celistra does not read through it; inspect it by hand, or remove the worktree with \`celistra worktree rm --force\` (its unharvested commits are then lost)`,
    );
  for (const dir of [objects, info]) {
    const st = lstatSync(dir, { throwIfNoEntry: false });
    if (!st?.isDirectory()) throw tampered(`${dir} is ${st ? (st.isSymbolicLink() ? 'a symlink' : 'not a directory') : 'missing'}`);
  }
  const st = lstatSync(alternates, { throwIfNoEntry: false });
  if (!st?.isFile()) throw tampered(`${alternates} is ${st ? 'not a regular file' : 'missing'}`);
  if (readFileSync(alternates, 'utf8') !== alternatesContent(commonDir)) throw tampered(`${alternates} names other object dirs`);
}

export function createShadow(layout: WorktreeLayout, repo: MainRepo, branch: string, baseCommit: string): void {
  const s = layout.shadowDir;
  for (const d of ['objects/info', 'objects/pack', 'refs/heads', 'refs/tags', 'logs', 'hooks', 'info', 'worktrees']) {
    mkdirSync(join(s, d), { recursive: true, mode: 0o755 });
  }
  writeFileSync(join(s, 'HEAD'), `ref: refs/heads/${branch}\n`);
  writeFileSync(join(s, 'objects', 'info', 'alternates'), alternatesContent(repo.commonDir));
  const mainExclude = join(repo.commonDir, 'info', 'exclude');
  writeFileSync(join(s, 'info', 'exclude'), existsSync(mainExclude) && lstatSync(mainExclude).isFile() ? readFileSync(mainExclude) : '');
  writeShadowConfig(s, repo);
  installGitlinkHook(s);
  mirrorMainRefs(layout, repo, branch);
  git(['update-ref', '-m', 'celistra: task branch created', `refs/heads/${branch}`, baseCommit, ''], { cwd: s, gitDir: s });
}

function writeShadowConfig(shadowDir: string, repo: MainRepo): void {
  const configFile = join(shadowDir, 'config');
  writeFileSync(configFile, '');
  // --file without --includes: an include in the main config is not followed, and never copied.
  const listed = gitTry(['config', '--file', join(repo.commonDir, 'config'), '--list', '-z'], { cwd: shadowDir });
  const entries: Array<[string, string]> = [];
  if (listed.status === 0) {
    for (const item of listed.stdout.split('\0')) {
      const nl = item.indexOf('\n');
      if (nl <= 0) continue;
      const key = item.slice(0, nl).toLowerCase();
      if (COPIED_CONFIG_KEYS.has(key)) entries.push([key, item.slice(nl + 1)]);
    }
  }
  for (const [k, v] of [...entries, ...SHADOW_CONFIG, ...hooksPathConfig(shadowDir)]) git(['config', '--file', configFile, k, v], { cwd: shadowDir });
}

/** `core.hooksPath`, absolute: the task's own hooks run even where your global config names other hooks. */
function hooksPathConfig(shadowDir: string): Array<[string, string]> {
  return [['core.hookspath', hooksPathOf(shadowDir)]];
}

/**
 * Shadows made before HOST_GIT_HARDENING (or its last keys, the pins' include, the
 * hooks path and rerere off) existed lack it: added before each fenced run (cheaply checked: one read of
 * the file), with the gitlink hook (worktree/gitlink-hook.ts).
 */
export function hardenShadowConfig(layout: WorktreeLayout): void {
  const configFile = join(layout.shadowDir, 'config');
  if (!lstatSync(configFile, { throwIfNoEntry: false })?.isFile()) return;
  installGitlinkHook(layout.shadowDir);
  const text = readFileSync(configFile, 'utf8');
  if (includesPins(text) && text.includes(hooksPathOf(layout.shadowDir)) && /^\[rerere\]$/m.test(text)) return;
  for (const [k, v] of [...HOST_GIT_HARDENING, ...hooksPathConfig(layout.shadowDir)]) git(['config', '--file', configFile, k, v], { cwd: layout.shadowDir });
}

/** Keep copied-in local files (`.env`) out of the agent's `git status` and `git add -A`. */
export function excludeFromShadow(layout: WorktreeLayout, paths: string[]): void {
  if (paths.length === 0) return;
  const escaped = paths.map((p) => `/${p.replace(/([\\*?[\]!# ])/g, '\\$1')}\n`).join('');
  appendFileSync(join(layout.shadowDir, 'info', 'exclude'), `# copied by celistra from .worktreeinclude\n${escaped}`);
}

/**
 * Give the agent a view of the main repository's branches and tags (so `git log main`
 * works inside), written into the shadow's packed-refs. The agent may move these copies
 * in its own view; the real refs live in the main git dir, which it cannot write, and
 * only its task branch is ever harvested. Returns false when git in the worktree holds
 * the packed-refs lock (the view is then left as it was).
 */
export function mirrorMainRefs(layout: WorktreeLayout, repo: MainRepo, branch: string): boolean {
  const s = layout.shadowDir;
  const out = git(['for-each-ref', '--format=%(objectname) %(refname)', 'refs/heads', 'refs/tags', 'refs/remotes'], { cwd: repo.top, gitDir: repo.commonDir });
  const mirrored = new Map<string, string>();
  for (const line of out.split('\n')) {
    const sp = line.indexOf(' ');
    if (sp <= 0) continue;
    const ref = line.slice(sp + 1);
    if (ref === `refs/heads/${branch}`) continue;
    mirrored.set(ref, line.slice(0, sp));
  }
  const lockPath = join(s, 'packed-refs.lock');
  let fd: number;
  try {
    fd = openSync(lockPath, 'wx', 0o644);
  } catch {
    return false;
  }
  try {
    const kept = readPackedRefs(s).filter(([, ref]) => !mirrored.has(ref));
    const lines = [...kept, ...[...mirrored].map(([ref, sha]) => [sha, ref] as [string, string])]
      .sort((a, b) => (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0))
      .map(([sha, ref]) => `${sha} ${ref}\n`);
    writeSync(fd, `# pack-refs with: sorted \n${lines.join('')}`);
    closeSync(fd);
    renameSync(lockPath, join(s, 'packed-refs'));
    // A loose ref would hide the fresh copy: the agent's own moves of main's refs end here.
    // Removed through no-follow directory handles: another run of this task may be
    // swapping `refs/heads` for a symlink right now.
    for (const ref of mirrored.keys()) unlinkBeneath(s, ref);
    return true;
  } catch (e) {
    rmSync(lockPath, { force: true });
    throw e;
  }
}

/** `[sha, refname]` entries of the shadow's packed-refs; peeled lines are dropped. */
function readPackedRefs(shadowDir: string): Array<[string, string]> {
  const file = join(shadowDir, 'packed-refs');
  if (!lstatSync(file, { throwIfNoEntry: false })?.isFile()) return [];
  const entries: Array<[string, string]> = [];
  for (const line of readAgentFile(file, MAX_PACKED_REFS, 'packed-refs').split('\n')) {
    const m = /^([0-9a-f]{40}|[0-9a-f]{64}) (refs\/\S+)$/.exec(line);
    if (m) entries.push([m[1]!, m[2]!]);
  }
  return entries;
}

/**
 * The commit the agent's branch points at in its shadow, read as plain data (no git runs
 * in the agent-writable dir). Undefined when the agent deleted its branch.
 */
export function readAgentTip(layout: WorktreeLayout, branch: string): string | undefined {
  return readShadowRef(layout, `refs/heads/${branch}`);
}

/** The commit checked out in the worktree (its HEAD), read the same way. */
export function readWorktreeHead(layout: WorktreeLayout): string | undefined {
  const file = join(layout.adminDir, 'HEAD');
  if (!lstatSync(file, { throwIfNoEntry: false })?.isFile()) return undefined;
  // Swapped since the lstat (a link, a FIFO): as if it were one from the start.
  const content = readFileNoFollow(file, MAX_REF_FILE)?.toString('utf8').trim();
  if (content === undefined) return undefined;
  if (COMMIT_ID.test(content)) return content;
  const m = /^ref: (refs\/heads\/\S+)$/.exec(content);
  return m ? readShadowRef(layout, m[1]!) : undefined;
}

const COMMIT_ID = /^([0-9a-f]{40}|[0-9a-f]{64})$/;
/** A ref file holds an id or `ref: <name>`; far more is garbage. */
const MAX_REF_FILE = 64 * 1024;
/** The shadow's own packed-refs (the task's refs only; the main repository's are elsewhere). */
const MAX_PACKED_REFS = 64 * 1024 * 1024;

/**
 * A file of the agent's (its HEAD, a ref, packed-refs) that lstat just called regular, read
 * without following a link, without waiting and within a bound: the agent can swap a link
 * to a FIFO or a terminal in after the lstat, and a plain read by path would open that
 * (hanging the daemon's background stat, or giving the detached daemon a controlling terminal).
 */
function readAgentFile(file: string, max: number, what: string): string {
  const content = readFileNoFollow(file, max);
  if (content === undefined) {
    throw new CelistraError('E_GIT', `${what} in ${file} is not a plain file of at most ${max} bytes (it changed while it was read, or is larger)`, 'inspect the worktree by hand; Celistra does not follow it');
  }
  return content.toString('utf8');
}

function readShadowRef(layout: WorktreeLayout, ref: string): string | undefined {
  if (ref.split('/').some((part) => part === '..' || part === '.' || part === '')) return undefined;
  const loose = join(layout.shadowDir, ...ref.split('/'));
  const st = lstatSync(loose, { throwIfNoEntry: false });
  if (st && !st.isDirectory()) {
    if (!st.isFile()) {
      throw new CelistraError('E_GIT', `${ref} in ${layout.shadowDir} is not a plain ref file`, 'inspect the worktree by hand; Celistra does not follow it');
    }
    const content = readAgentFile(loose, MAX_REF_FILE, ref).trim();
    if (COMMIT_ID.test(content)) return content;
    throw new CelistraError('E_GIT', `${ref} in ${layout.shadowDir} does not hold a commit id`, 'a symbolic ref or garbage there is not followed');
  }
  return readPackedRefs(layout.shadowDir).find(([, name]) => name === ref)?.[0];
}
