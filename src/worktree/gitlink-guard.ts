import { closeSync, constants, fsyncSync, mkdtempSync, openSync, readFileSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readFileNoFollow } from '../fs/tree-read.js';
import { gitTry } from './git.js';
import type { WorktreeLayout, WorktreeRecord } from './record.js';

/**
 * Gitlinks of the task's own index marked skip-worktree, for the user's git.
 *
 * `git add -A` / `-u` / `.` and `git stash` (git's add_files_to_cache and stash's diff)
 * enter every gitlink they find checked out to ask whether it is dirty, whatever
 * `diff.ignoreSubmodules` or a pin says; that child git obeys the nested repository's
 * config, which the agent wrote (`core.fsmonitor`, a clean filter). Git 2.39 leaves an
 * index entry marked skip-worktree alone in all of them (measured: add -A/-u/./<path>,
 * commit -a, stash, stash -u/-a, checkout ., restore, reset, rm --cached, mv), and
 * checkout/reset/merge carry the mark over to the entry that replaces it at the same path.
 *
 * The index is the agent's (admin/index): it is read as data without following a link,
 * changed on a private copy, and written back under git's own lock (`index.lock`, created
 * exclusively). An index that cannot be read or rewritten (a link, a split index, garbage)
 * or is locked while it has gitlinks to mark cannot be guarded, and the caller moves it
 * aside (fail closed: without an index your git enters nothing; a git of yours that held
 * the lock writes its new index in its place, which the hook then marks).
 */
export type GitlinkGuard = { marked: string[] } | { unguarded: string };

const MAX_INDEX_FILE = 1024 * 1024 * 1024;

export function markGitlinksSkipWorktree(record: WorktreeRecord, layout: WorktreeLayout): GitlinkGuard {
  const indexFile = join(layout.adminDir, 'index');
  // Looked at first without the lock: a command that finds nothing to mark changes nothing
  // (not even the admin dir's mtime: a refusing pull or rm leaves the task as it was).
  const first = onCopy(record, indexFile, false);
  if ('unguarded' in first || first.marked.length === 0) return first;
  const lockFile = `${indexFile}.lock`;
  let lock: number;
  try {
    lock = openSync(lockFile, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o644);
  } catch (e) {
    return { unguarded: `its index is locked (${lockFile}: ${(e as NodeJS.ErrnoException).code}; remove that lock if no git of yours runs there)` };
  }
  let written = false;
  try {
    // Under the lock, from the index as it is now.
    const result = onCopy(record, indexFile, true);
    if ('unguarded' in result || !result.content) return result;
    let off = 0;
    while (off < result.content.length) off += writeSync(lock, result.content, off, result.content.length - off);
    fsyncSync(lock);
    closeSync(lock);
    lock = -1;
    // A rename replaces the entry `index` (a link planted there included), never its target.
    renameSync(lockFile, indexFile);
    written = true;
    return { marked: result.marked };
  } finally {
    if (lock >= 0) closeSync(lock);
    if (!written) rmSync(lockFile, { force: true });
  }
}

/** The unmarked stage-0 gitlinks of the index, read from a private copy; with `mark`, also the copy's bytes once marked. */
function onCopy(record: WorktreeRecord, indexFile: string, mark: boolean): { marked: string[]; content?: Buffer } | { unguarded: string } {
  const original = readFileNoFollow(indexFile, MAX_INDEX_FILE);
  if (!original) {
    const kind = indexKind(indexFile);
    return kind === 'absent' ? { marked: [] } : { unguarded: `its index is not a regular file (${kind})` };
  }
  const scratch = mkdtempSync(join(tmpdir(), 'celistra-gitlinks-'));
  try {
    const copy = join(scratch, 'index');
    writeFileSync(copy, original, { mode: 0o600 });
    // GIT_DIR given as a plain variable: neither call reads a file's content, so no filter
    // can run, and the filter neutralization (a git spawn of its own) is not needed.
    const opts = { cwd: scratch, workTree: scratch, env: { GIT_DIR: record.commonDir, GIT_INDEX_FILE: copy } };
    // Never split: your main config's core.splitIndex would write the shared part into the
    // main .git, where your git in the task worktree (which looks in admin/) cannot find it.
    const whole = ['-c', 'core.splitIndex=false'];
    const listed = gitTry([...whole, 'ls-files', '--stage', '-t', '-z'], opts);
    if (listed.status !== 0) return { unguarded: `git cannot read its index: ${listed.stderr.trim().split('\n')[0]}` };
    // `-t --stage` prints "<tag> <mode> <id> <stage>\t<path>"; tag S is skip-worktree.
    const gitlinks = listed.stdout.split('\0').flatMap((e) => {
      const m = /^(\S) 160000 [0-9a-f]+ (\d)\t(.+)$/s.exec(e);
      return m && m[1] !== 'S' && m[2] === '0' ? [m[3]!] : [];
    });
    if (!mark || gitlinks.length === 0) return { marked: gitlinks };
    const marked = gitTry([...whole, 'update-index', '--skip-worktree', '-z', '--stdin'], { ...opts, input: `${gitlinks.join('\0')}\0` });
    if (marked.status !== 0) return { unguarded: `git cannot mark its gitlinks: ${marked.stderr.trim().split('\n')[0]}` };
    return { marked: gitlinks, content: readFileSync(copy) };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

function indexKind(path: string): string {
  try {
    const fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    closeSync(fd);
    return 'unreadable or too large';
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? 'absent' : code === 'ELOOP' ? 'a symbolic link' : `${code}`;
  }
}

