import { lstatSync, mkdirSync, readFileSync, realpathSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { CelistraError } from '../errors.js';
import { seedText, type ProtectedEntry } from './catalog.js';

/**
 * Makes a preset's protected entry exist, as what it is meant to be, so a backend can bind
 * it read-only, and returns its absolute path. A missing entry is created (a file from its
 * seed, 0600; a dir, 0700): left missing, the agent could create it itself.
 *
 * `abs` is the entry with `~/` expanded. Its parent must already exist (it is the preset's
 * state dir or inside one); the parent is realpath'd, the entry itself is not followed.
 * `workspace` (realpath'd) is the agent's, for seeds made per workspace.
 */
export function ensureProtectedEntry(entry: ProtectedEntry, abs: string, workspace: string): string {
  mkdirSync(dirname(abs), { recursive: true, mode: 0o700 });
  const path = join(realpathSync(dirname(abs)), basename(abs));
  create(entry, path, workspace);
  const st = lstatSync(path);
  if (st.isSymbolicLink()) {
    // A read-only bind lands on the link's target; the link itself, in a writable dir,
    // could still be replaced by one pointing at a file the agent wrote.
    throw new CelistraError(
      'E_POLICY',
      `${path} is a symlink, so the fence cannot keep the agent from replacing it`,
      `it configures what the agent runs; make it a regular ${entry.kind === 'dir' ? 'directory' : 'file'} (copy the target in place of the link)`,
    );
  }
  if (entry.kind === 'dir' ? !st.isDirectory() : !st.isFile()) {
    throw new CelistraError('E_POLICY', `${path} should be a ${entry.kind === 'dir' ? 'directory' : 'regular file'}`, 'move it aside, or fix its type');
  }
  return path;
}

function create(entry: ProtectedEntry, path: string, workspace: string): void {
  try {
    if (entry.kind === 'dir') mkdirSync(path, { mode: 0o700 });
    else writeFileSync(path, seedText(entry.seed, workspace), { flag: 'wx', mode: 0o600 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    if (entry.kind === 'file' && entry.formerSeeds) upgradeSeed(seedText(entry.seed, workspace), entry.formerSeeds, path);
  }
}

/** A regular file still holding an earlier seed is replaced (by rename) with the current one; anything else is the user's. */
function upgradeSeed(seed: string, formerSeeds: string[], path: string): void {
  if (!lstatSync(path).isFile() || !formerSeeds.includes(readFileSync(path, 'utf8'))) return;
  const fresh = join(dirname(path), `.${basename(path)}.celistra-seed-${process.pid}`);
  // The agent can write this dir: whatever it left under that name goes, and O_EXCL never follows a link.
  rmSync(fresh, { force: true });
  writeFileSync(fresh, seed, { flag: 'wx', mode: 0o600 });
  renameSync(fresh, path);
}
