import { createRequire } from 'node:module';
import { lstatSync, mkdirSync, readFileSync, realpathSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { CelistraError } from './errors.js';
import type { AgentStateDir } from './presets.js';
import { ensureProtectedEntry } from './preset-protected-entries.js';

// node:crypto costs ~5 ms to load (more than the rest of `celistra run` around a
// command), and only runs with a preset need it: loaded on first use.
const loadBuiltin = createRequire(import.meta.url);
const crypto = (): typeof import('node:crypto') => loadBuiltin('node:crypto') as typeof import('node:crypto');

/** One agent's state dir, ready for the fence: writable itself, these entries inside it read-only. */
export interface PreparedStateDir {
  /** Realpath'd; the agent's env var points here. */
  dir: string;
  /** The protected entries, realpath'd, to be kept read-only. */
  readOnly: string[];
}

/**
 * The name of a workspace's state dir: readable (the workspace's own name) and unique
 * (a hash of its real path), so two workspaces never meet in one dir, and the same
 * workspace finds its sessions and onboarding again on the next run.
 */
export function agentStateKey(workspace: string): string {
  const name = basename(workspace).replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 40);
  const hash = crypto().createHash('sha256').update(workspace).digest('hex').slice(0, 16);
  return `${name || 'root'}-${hash}`;
}

/** Where the agent working in `workspace` (realpath'd) keeps its state, under the expanded `base`. */
export function agentStateDirPath(base: string, workspace: string): string {
  return join(base, 'agents', agentStateKey(workspace));
}

/**
 * Creates the state dir of the agent working in `workspace` under the expanded `base`,
 * copies in the user's login and creates the protected entries. Runs before the fence
 * is up, in directories a previous run of this agent could write: nothing here follows a
 * symlink it did not expect, and files are replaced by rename, never written through.
 */
export function prepareAgentStateDir(state: AgentStateDir, base: string, workspace: string): PreparedStateDir {
  mkdirSync(base, { recursive: true, mode: 0o700 });
  // The base may be a symlink the user made (dotfiles); what lies under it is ours.
  const realBase = realpathSync(base);
  const agents = ownDir(join(realBase, 'agents'));
  const dir = ownDir(join(agents, agentStateKey(workspace)));
  for (const name of state.fromBase) copyFromBase(join(realBase, name), join(dir, name));
  const readOnly = state.protectedEntries.map((entry) => ensureProtectedEntry(entry, join(dir, entry.path)));
  return { dir, readOnly };
}

/** mkdir (0700) unless there, and refuse anything but a real directory: a symlink would move the grant elsewhere. */
function ownDir(path: string): string {
  try {
    mkdirSync(path, { mode: 0o700 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
  const st = lstatSync(path);
  if (!st.isDirectory()) {
    throw new CelistraError(
      'E_POLICY',
      `${path} should be a directory${st.isSymbolicLink() ? ', not a symlink' : ''}: an agent's writable state dir must be exactly where the preset puts it`,
      'move it aside and run again',
    );
  }
  return path;
}

/**
 * The user's login, copied into the agent's dir when the copy is missing or older than
 * the original. The copy keeps the original's mtime, so a token the agent refreshed in
 * its copy (newer) is kept, and a new login by the user (newer still) replaces it.
 */
function copyFromBase(src: string, dst: string): void {
  const from = statSync(src, { throwIfNoEntry: false });
  if (!from?.isFile()) return;
  const to = lstatSync(dst, { throwIfNoEntry: false });
  if (to?.isFile() && to.mtimeMs >= from.mtimeMs) return;
  const tmp = `${dst}.celistra-${crypto().randomBytes(6).toString('hex')}`;
  try {
    writeFileSync(tmp, readFileSync(src), { flag: 'wx', mode: 0o600 });
    utimesSync(tmp, from.atime, from.mtime);
    // Over whatever the agent left there, a symlink included: the link is replaced, not followed.
    renameSync(tmp, dst);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw new CelistraError('E_POLICY', `cannot copy your login ${src} into the agent's state dir: ${(e as Error).message}`, `remove ${dst} and run again`);
  }
}
