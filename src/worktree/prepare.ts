import { closeSync, constants, existsSync, fchmodSync, fstatSync, lstatSync, mkdirSync, openSync, readFileSync, readSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { CelistraError } from '../policy/errors.js';
import { git } from './git.js';
import type { MainRepo } from './repo.js';

/**
 * Getting a fresh task worktree ready to work in: untracked files it needs (`.env`,
 * local config) and a setup command (`npm ci`). Both come from the main checkout,
 * which the user controls; the tree they land in may not be (see worktree/setup.ts).
 */

/** The file listing untracked files to copy, in .gitignore syntax. */
export const WORKTREE_INCLUDE_FILE = '.worktreeinclude';
/** The repository's Celistra config: `{ "worktree": { "setup": "npm ci" } }`. */
export const REPO_CONFIG_FILE = '.celistra.json';

/**
 * Copy the main checkout's untracked files matched by `.worktreeinclude`; returns their paths.
 * The destination tree was checked out from a base an agent may have authored, so a
 * committed symlink (`.env -> ~/victim`, `config -> /etc`) must not redirect the copy:
 * no link is followed on either side, and a path that is already taken is refused.
 */
export function copyIncludedFiles(repo: MainRepo, worktree: string): string[] {
  const list = join(repo.top, WORKTREE_INCLUDE_FILE);
  if (!existsSync(list)) return [];
  const out = git(['ls-files', '-z', '--others', '--ignored', `--exclude-from=${list}`], { cwd: repo.top, gitDir: repo.commonDir, workTree: repo.top });
  const copied: string[] = [];
  for (const rel of out.split('\0').filter(Boolean)) {
    if (!lstatSync(join(repo.top, rel)).isFile()) continue;
    copyWithoutFollowing(repo.top, worktree, rel);
    copied.push(rel);
  }
  return copied;
}

const NO_FOLLOW_READ = constants.O_RDONLY | constants.O_NOFOLLOW;
const NO_FOLLOW_CREATE = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

/** Copy `rel` from one tree to the other, keeping its mode, through real directories only. */
function copyWithoutFollowing(fromRoot: string, toRoot: string, rel: string): void {
  const parts = rel.split('/');
  const refuse = (where: string, what: string) =>
    new CelistraError(
      'E_CONFLICT',
      `not copying ${rel} from .worktreeinclude: ${where} ${what}`,
      `Celistra never writes through a link or over a file the base commit has; remove ${rel} from ${WORKTREE_INCLUDE_FILE} or from the base branch; nothing was created`,
    );
  let fromDir = fromRoot;
  for (const part of parts.slice(0, -1)) {
    fromDir = join(fromDir, part);
    if (!lstatSync(fromDir, { throwIfNoEntry: false })?.isDirectory()) throw refuse(fromDir, 'is not a plain directory in the main checkout');
  }
  let toDir = toRoot;
  for (const part of parts.slice(0, -1)) {
    toDir = join(toDir, part);
    const st = lstatSync(toDir, { throwIfNoEntry: false });
    if (!st) mkdirSync(toDir);
    else if (!st.isDirectory()) throw refuse(toDir, st.isSymbolicLink() ? 'is a symlink in the base tree' : 'is not a directory in the base tree');
  }
  const to = join(toDir, parts[parts.length - 1]!);
  const from = openSync(join(fromDir, parts[parts.length - 1]!), NO_FOLLOW_READ);
  try {
    const st = fstatSync(from);
    if (!st.isFile()) throw refuse(join(fromRoot, rel), 'is not a regular file');
    let dest: number;
    try {
      dest = openSync(to, NO_FOLLOW_CREATE, 0o600);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EEXIST' || code === 'ELOOP') {
        throw refuse(to, lstatSync(to).isSymbolicLink() ? 'is a symlink in the base tree' : 'already exists in the base tree');
      }
      throw e;
    }
    try {
      const buf = Buffer.allocUnsafe(64 * 1024);
      for (let n = readSync(from, buf); n > 0; n = readSync(from, buf)) {
        for (let off = 0; off < n; ) off += writeSync(dest, buf, off, n - off);
      }
      fchmodSync(dest, st.mode & 0o777);
    } finally {
      closeSync(dest);
    }
  } finally {
    closeSync(from);
  }
}

/** The setup command from the repository's Celistra config, if any. */
export function setupCommand(repo: MainRepo): string | undefined {
  const file = join(repo.top, REPO_CONFIG_FILE);
  if (!existsSync(file)) return undefined;
  let config: { worktree?: { setup?: unknown } };
  try {
    config = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new CelistraError('E_USAGE', `${file} is not valid JSON: ${(e as Error).message}`);
  }
  const setup = config.worktree?.setup;
  if (setup === undefined) return undefined;
  if (typeof setup !== 'string' || setup.trim() === '') {
    throw new CelistraError('E_USAGE', `${file}: worktree.setup must be a non-empty string (a shell command)`);
  }
  return setup;
}
