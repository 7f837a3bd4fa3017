import { existsSync, mkdirSync, realpathSync as realpathSyncJs, statSync } from 'node:fs';

// realpath(3) answers in one call what the JS version walks component by component
// (with lstat and readlink per part): ~0.3 ms per 10 paths, and a policy resolves dozens.
const realpathSync = realpathSyncJs.native;
import { join, resolve, sep } from 'node:path';
import { CelistraError } from './errors.js';
import { expandHome } from './home-path.js';
import { isWithin } from './path-within.js';
import { liftedDefaultDenies } from './read-deny-lift.js';
import type { CelistraPaths } from './paths.js';
import { PRESETS, presetNames } from './presets/catalog.js';
import { agentStateBases, prepareAgentStateDir } from './presets/state-dir.js';
import type { GitGrants } from './git-grants.js';

export type NetworkMode = 'on' | 'off';

/**
 * `deny`: the agent cannot create unix sockets, so it reaches no local service by a socket
 * path (Docker, ssh-agent, D-Bus, another agent's server) and no abstract socket;
 * socketpair() still works. `allow` (`--allow-unix-sockets`): it reaches every socket it
 * can see, and the backends say that pathname-unix is not held for the run.
 */
export type UnixSocketMode = 'deny' | 'allow';

/**
 * What an agent may do. Plain data: every path is absolute and realpath'd, so a
 * backend never has to resolve symlinks itself, and the whole thing serialises to JSON
 * (the daemon persists it, `doctor` and the audit log print it).
 */
export interface Policy {
  version: 1;
  /** The agent's own directory: writable. */
  workspace: string;
  /** Other writable directories (`--allow-write`, preset state dirs, git grants). */
  writableRoots: string[];
  /**
   * Paths inside writable roots that must stay read-only (a linked worktree's `.git`
   * pointer, its `gitdir`/`commondir` files). Backends that cannot carve these out
   * must refuse the policy.
   */
  readOnlyPaths: string[];
  /** Paths the agent must not read (secrets, Celistra's own state). Existing ones only. */
  denyRead: string[];
  /** The agent's private temp dir, exported as TMPDIR; backends that can, mount it on /tmp. */
  tmpDir: string;
  network: NetworkMode;
  /** Absent in policies persisted before it existed: read as `deny` (see unixSocketsAllowed). */
  unixSockets: UnixSocketMode;
  preset?: string;
  /** Environment added to the agent's (TMPDIR, preset vars, git vars). */
  env: Record<string, string>;
  /** How git is made to work in a linked worktree; absent when not a worktree. */
  git?: GitGrants;
}

export interface PolicyInput {
  workspace: string;
  allowWrite?: string[];
  denyRead?: string[];
  /** Default read-denies to lift for this agent (`--allow-read`): see read-deny-lift.ts. */
  allowRead?: string[];
  network?: NetworkMode;
  unixSockets?: UnixSocketMode;
  preset?: string;
  /** The private temp dir, created by the caller (one per run/agent). */
  tmpDir: string;
  paths: CelistraPaths;
  git?: GitGrants;
  /**
   * The run's approval spool (made by the daemon inside its runtime dir): the directory
   * writable, `answersDir` inside it read-only, `env` naming it to the agent.
   */
  approvals?: { dir: string; answersDir: string; env: Record<string, string> };
}

/**
 * Credentials no agent needs, read-denied on every run. The user's own Claude Code and
 * Codex logins are here too: a fenced agent runs with its own state dir (policy/presets/catalog.ts) and
 * gets its own copy of the login there, never the user's file itself.
 */
export const DEFAULT_DENY_READ = [
  '~/.ssh',
  '~/.aws',
  '~/.gnupg',
  '~/.config/gh',
  '~/.netrc',
  '~/.git-credentials',
  '~/.docker/config.json',
  '~/.kube',
  '~/.config/gcloud',
  '~/.azure',
  '~/.claude/.credentials.json',
  '~/.codex/auth.json',
];

export { expandHome };

/** realpath, or a clear error naming the flag the path came from. */
function realDir(p: string, what: string): string {
  const abs = resolve(p);
  let real: string;
  try {
    real = realpathSync(abs);
  } catch {
    throw new CelistraError('E_POLICY', `${what} ${abs} does not exist`, 'create it first, or fix the path');
  }
  if (!statSync(real).isDirectory()) {
    throw new CelistraError('E_POLICY', `${what} ${abs} is not a directory`);
  }
  return real;
}

/** realpath when the path exists; otherwise resolve the deepest existing ancestor. */
export function realpathLoose(p: string): string {
  const abs = resolve(p);
  if (existsSync(abs)) return realpathSync(abs);
  const parent = resolve(abs, '..');
  if (parent === abs) return abs;
  return join(realpathLoose(parent), abs.slice(parent.length + (parent.endsWith(sep) ? 0 : 1)));
}

/** Only an explicit `allow` opens unix sockets: a policy without the field is fenced. */
export function unixSocketsAllowed(policy: Pick<Policy, 'unixSockets'>): boolean {
  return policy.unixSockets === 'allow';
}

export { isWithin };

function resolveWorkspace(workspace: string, paths: CelistraPaths): string {
  const abs = resolve(workspace);
  let real: string;
  try {
    real = realpathSync(abs);
  } catch {
    throw new CelistraError('E_WORKSPACE', `workspace ${abs} does not exist`, 'create it, or pass an existing directory to --workspace');
  }
  if (!statSync(real).isDirectory()) {
    throw new CelistraError('E_WORKSPACE', `workspace ${abs} is not a directory`);
  }
  if (real === '/') {
    throw new CelistraError('E_WORKSPACE', 'refusing workspace /: the agent could write the whole system', 'pass the project directory, e.g. --workspace ~/code/myproject');
  }
  const home = realpathLoose(paths.home);
  if (real === home) {
    throw new CelistraError('E_WORKSPACE', `refusing workspace ${real}: it is your home directory (shell rc files, ~/.ssh, ...)`, 'pass a project directory inside it instead');
  }
  for (const own of [paths.stateDir, paths.configDir, paths.runtimeDir]) {
    const ownReal = realpathLoose(own);
    if (isWithin(ownReal, real) || isWithin(real, ownReal)) {
      throw new CelistraError('E_WORKSPACE', `refusing workspace ${real}: it contains or lies inside Celistra's own directory ${ownReal}`, 'an agent must not be able to write Celistra\'s state, config or socket');
    }
  }
  return real;
}

export function buildPolicy(input: PolicyInput): Policy {
  const { paths } = input;
  const home = paths.home;
  const workspace = resolveWorkspace(input.workspace, paths);
  const env: Record<string, string> = {};
  const writable: string[] = [];
  const presetReadOnly: string[] = [];
  let ownStateDir: string | undefined;

  if (input.preset !== undefined) {
    const preset = PRESETS[input.preset];
    if (!preset) {
      throw new CelistraError('E_POLICY', `unknown preset "${input.preset}"`, `known presets: ${presetNames().join(', ')}`);
    }
    for (const dir of preset.writableDirs) {
      const abs = expandHome(dir, home);
      mkdirSync(abs, { recursive: true, mode: 0o700 });
      writable.push(realpathSync(abs));
    }
    for (const [k, v] of Object.entries(preset.env)) env[k] = expandHome(v, home);
    if (preset.stateDir) {
      const state = prepareAgentStateDir(preset.stateDir, expandHome(preset.stateDir.base, home), workspace, { home, celistraStateDir: paths.stateDir });
      writable.push(state.dir);
      ownStateDir = state.dir;
      presetReadOnly.push(...state.readOnly);
      env[preset.stateDir.envVar] = state.dir;
    }
  }
  for (const p of input.allowWrite ?? []) writable.push(realDir(expandHome(p, home), '--allow-write path'));

  const tmpDir = realDir(input.tmpDir, 'private temp dir');
  env.TMPDIR = tmpDir;

  const readOnlyPaths: string[] = [...presetReadOnly];
  if (input.git) {
    writable.push(...input.git.writableRoots);
    readOnlyPaths.push(...input.git.readOnlyPaths);
    Object.assign(env, input.git.env);
  }
  // Put back inside the read-denied runtime dir like the private TMPDIR: this run's spool only.
  const spool = input.approvals ? realDir(input.approvals.dir, 'approval spool') : undefined;
  if (input.approvals && spool) {
    if (!isWithin(spool, realpathLoose(paths.runtimeDir))) throw new CelistraError('E_POLICY', `the approval spool ${spool} must lie inside Celistra's runtime dir`);
    writable.push(spool);
    readOnlyPaths.push(realDir(input.approvals.answersDir, 'approval answers dir'));
    Object.assign(env, input.approvals.env);
  }

  // Celistra's own state, config and socket are never readable by an agent, whatever
  // the flags say: they hold the API token and the policies.
  const lifted = liftedDefaultDenies(input.allowRead ?? [], DEFAULT_DENY_READ, input.denyRead ?? [], home);
  const defaults = DEFAULT_DENY_READ.map((p) => expandHome(p, home)).filter((p) => !lifted.has(p));
  const deny = [...defaults, ...(input.denyRead ?? []).map((p) => expandHome(p, home))];
  deny.push(paths.stateDir, paths.configDir, paths.runtimeDir);
  // Every agent's state (transcripts, sessions, its login) is hidden from every other
  // agent; the preset's own state dir, inside one of these, is put back by the backend.
  const stateBases = agentStateBases(home, { create: ownStateDir !== undefined });
  deny.push(...stateBases);
  const denyRead = unique(deny.filter((p) => existsSync(p)).map((p) => realpathSync(p)));

  for (const w of writable) {
    if (w === '/' || w === realpathLoose(home)) {
      throw new CelistraError('E_POLICY', `refusing writable root ${w}: too broad`, 'grant a narrower directory');
    }
    for (const d of denyRead) {
      // A writable root inside a denied path would hand the secret back.
      if (isWithin(w, d) && !(w === ownStateDir && stateBases.includes(d)) && !(w === spool && d === realpathLoose(paths.runtimeDir))) {
        throw new CelistraError('E_POLICY', `writable root ${w} lies inside the read-denied ${d}`);
      }
    }
  }
  refuseSharedAgentState([workspace, ...writable], ownStateDir, home);
  // A mask inside a writable root does not hold: the agent can rename an ancestor of the
  // secret, and the next run, no longer finding the path, would not mask it at all.
  const requestedDeny = (input.denyRead ?? []).map((p) => realpathLoose(expandHome(p, home)));
  for (const d of unique([...denyRead, ...requestedDeny])) {
    for (const w of [workspace, ...writable]) {
      if (isWithin(d, w)) {
        throw new CelistraError(
          'E_POLICY',
          `cannot read-deny ${d}: it lies inside the writable ${w}, where the agent could move it out from under the mask`,
          'keep secrets outside the directories the agent may write, or grant a narrower directory',
        );
      }
    }
  }

  const policy: Policy = {
    version: 1,
    workspace,
    writableRoots: unique(writable.filter((w) => w !== workspace)),
    readOnlyPaths: unique(readOnlyPaths),
    denyRead,
    tmpDir,
    network: input.network ?? 'on',
    unixSockets: input.unixSockets ?? 'deny',
    env,
  };
  // Absent rather than undefined, so the policy round-trips through JSON unchanged.
  if (input.preset !== undefined) policy.preset = input.preset;
  if (input.git !== undefined) policy.git = input.git;
  return policy;
}

/**
 * The presets' state bases hold every agent's own state dir: a
 * writable root that contains a base, or lies inside one without being the single state
 * dir this policy's preset made, would let one agent plant what another loads.
 */
function refuseSharedAgentState(roots: string[], ownStateDir: string | undefined, home: string): void {
  for (const preset of Object.values(PRESETS)) {
    if (!preset.stateDir) continue;
    const base = realpathLoose(expandHome(preset.stateDir.base, home));
    for (const r of roots) {
      if (r === ownStateDir) continue;
      if (isWithin(base, r) || isWithin(r, base)) {
        throw new CelistraError(
          'E_POLICY',
          `refusing writable ${r}: it ${isWithin(base, r) ? 'contains' : 'lies inside'} ${base}, where each fenced ${preset.name} agent keeps its own state`,
          'grant a directory outside it; with --preset each agent gets its own state dir there',
        );
      }
    }
  }
}

function unique(xs: string[]): string[] {
  return [...new Set(xs)];
}
