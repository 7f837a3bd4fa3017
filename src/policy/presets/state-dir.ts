import { lstatSync, mkdirSync, readFileSync, realpathSync, renameSync, rmdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { CelistraError } from '../errors.js';
import { expandHome } from '../home-path.js';
import { isWithin } from '../path-within.js';
import { PRESETS, type AgentStateDir, type LoginFile } from './catalog.js';
import { madeByCelistra, recordMadeByCelistra } from './state-provenance.js';
import { ensureProtectedEntry } from './protected-entries.js';
import { loadBuiltin } from '../../lazy/builtin.js';

// node:crypto costs ~5 ms to load (more than the rest of `celistra run` around a
// command), and only runs with a preset need it: loaded on first use.
const crypto = (): typeof import('node:crypto') => loadBuiltin<typeof import('node:crypto')>('node:crypto');

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
  const hash = sha256Hex(workspace).slice(0, 16);
  return `${name || 'root'}-${hash}`;
}

/** Where the agent working in `workspace` (realpath'd) keeps its state, under the expanded `base`. */
export function agentStateDirPath(base: string, workspace: string): string {
  return join(base, 'agents', agentStateKey(workspace));
}

/** What preparing a state dir needs besides the preset: where `~/` is, and where Celistra keeps its own state. */
export interface StateDirContext {
  home: string;
  /** Celistra's own state dir, never readable or writable by an agent: the provenance records live there. */
  celistraStateDir: string;
}

/**
 * Every preset's base that exists, realpath'd, for the policy to hide from every fenced
 * agent (the agent's own dir inside is put back). A mask needs an existing directory, so
 * with `create` (a run that keeps agent state) the missing ones are made first (0700):
 * later runs then hide the other preset's base before that preset is first used. Without
 * it the home is left as it is.
 */
export function agentStateBases(home: string, opts: { create: boolean }): string[] {
  const bases: string[] = [];
  for (const preset of Object.values(PRESETS)) {
    if (!preset.stateDir) continue;
    const base = expandHome(preset.stateDir.base, home);
    if (opts.create) mkdirSync(base, { recursive: true, mode: 0o700 });
    const real = realpathOrNone(base);
    if (real !== undefined) bases.push(real);
  }
  return bases;
}

/**
 * Creates the state dir of the agent working in `workspace` under the expanded `base`,
 * copies in the user's login and creates the protected entries. Runs before the fence
 * is up, in directories a previous run of this agent could write: nothing here follows a
 * symlink it did not expect, and files are replaced by rename, never written through.
 */
export function prepareAgentStateDir(state: AgentStateDir, base: string, workspace: string, ctx: StateDirContext): PreparedStateDir {
  mkdirSync(base, { recursive: true, mode: 0o700 });
  // The base may be a symlink the user made (dotfiles); what lies under it is ours.
  const realBase = realpathSync(base);
  const agents = ownDir(join(realBase, 'agents'));
  const key = agentStateKey(workspace);
  const record = join(ctx.celistraStateDir, 'agent-state-dirs', sha256Hex(realBase).slice(0, 16), `${key}.json`);
  const dir = dirMadeByCelistra(join(agents, key), record);
  for (const login of state.logins) copyLogin(usersOwnLogin(login, ctx.home), join(dir, login.name));
  const readOnly = state.protectedEntries.map((entry) => ensureProtectedEntry(entry, join(dir, entry.path), workspace));
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
 * The agent's dir at `path`, as Celistra made it. Anything else found there (a dir from
 * before the records, when the base was shared and writable by every fenced agent, or a
 * symlink) is moved aside, unread, to `<key>.untrusted-<time>`, and a fresh dir is made.
 * An empty dir holds nothing to trust and is simply replaced: that is also what a second
 * first start on the same workspace finds between the other's mkdir and its record.
 */
function dirMadeByCelistra(path: string, record: string): string {
  const found = lstatSync(path, { throwIfNoEntry: false });
  if (found?.isDirectory() && madeByCelistra(record, path, found)) return path;
  if (found && !removedIfEmptyDir(path)) {
    const aside = `${path}.untrusted-${new Date().toISOString().replace(/[:.]/g, '-')}-${crypto().randomBytes(3).toString('hex')}`;
    try {
      renameSync(path, aside);
    } catch (e) {
      throw new CelistraError('E_POLICY', `cannot move aside ${path}, an agent state dir Celistra did not make: ${(e as Error).message}`, 'move it aside yourself and run again');
    }
  }
  try {
    mkdirSync(path, { mode: 0o700 });
  } catch (e) {
    // Another first start on this workspace made it in the meantime: it records the same dir.
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
  const st = lstatSync(path);
  if (!st.isDirectory()) throw new CelistraError('E_POLICY', `${path} changed while Celistra was making it`, 'run again');
  recordMadeByCelistra(record, path, st);
  return path;
}

/** rmdir: true when `path` was an empty directory and is gone. */
function removedIfEmptyDir(path: string): boolean {
  try {
    rmdirSync(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * The user's own login file, expanded and realpath'd. One that resolves into a preset's
 * base (a symlink into the old shared config dir) is refused: fenced agents could write there.
 */
function usersOwnLogin(login: LoginFile, home: string): string {
  const abs = expandHome(login.source, home);
  let real: string;
  try {
    real = realpathSync(abs);
  } catch {
    return abs; // no login yet: nothing to copy
  }
  for (const preset of Object.values(PRESETS)) {
    if (!preset.stateDir) continue;
    const base = realpathOrNone(expandHome(preset.stateDir.base, home));
    if (base === undefined) continue;
    if (isWithin(real, base)) {
      throw new CelistraError(
        'E_POLICY',
        `your login ${abs} resolves to ${real}, inside ${base}, which fenced agents could once write`,
        `make ${abs} a regular file holding your own login (log in again with your own, unfenced agent)`,
      );
    }
  }
  return real;
}

/**
 * The user's login, copied into the agent's dir when the copy is missing or older than
 * the original. The copy keeps the original's mtime, so a token the agent refreshed in
 * its copy (newer) is kept, and a new login by the user (newer still) replaces it.
 */
function copyLogin(src: string, dst: string): void {
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

function realpathOrNone(p: string): string | undefined {
  try {
    return realpathSync(p);
  } catch {
    return undefined;
  }
}

function sha256Hex(s: string): string {
  return crypto().createHash('sha256').update(s).digest('hex');
}
