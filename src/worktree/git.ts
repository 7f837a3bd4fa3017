import { childProcess } from '../lazy/child-process.js';
import { CelistraError } from '../policy/errors.js';
import { gitSubprocessTrap } from './git-subprocess-trap.js';

/**
 * Host-side git, as Celistra runs it (worktree add/ls/rm, diff, pull). The agent can
 * write its worktree and its shadow git dir, so nothing it planted may steer a git
 * process that runs unfenced: the repository is always named explicitly (never
 * discovered through a `.git` file the agent could have rewritten), every GIT_* variable
 * inherited from the caller is dropped, and the options below override whatever a
 * repository config says (command-line `-c` has the highest precedence).
 */
export const HARDENING_CONFIG: readonly string[] = [
  'core.fsmonitor=false', // a configured fsmonitor is a command git would execute
  'core.hooksPath=/dev/null', // no hook runs on the host on an agent's behalf
  'core.untrackedCache=false',
  'core.pager=cat',
  'core.editor=false',
  'core.sshCommand=false',
  'submodule.recurse=false', // an agent-made submodule is a repository with its own config
  'diff.ignoreSubmodules=all',
  'status.submoduleSummary=false',
  'gc.auto=0', // no detached background gc started by Celistra
  'maintenance.auto=false',
  'protocol.allow=never', // host-side git here is local-only
  'advice.detachedHead=false',
];

/** GIT_* variables we keep from the caller: identity only, never location or config. */
const KEPT_GIT_VARS = new Set([
  'GIT_AUTHOR_NAME',
  'GIT_AUTHOR_EMAIL',
  'GIT_AUTHOR_DATE',
  'GIT_COMMITTER_NAME',
  'GIT_COMMITTER_EMAIL',
  'GIT_COMMITTER_DATE',
]);

export interface GitRunOptions {
  /** Working directory of the git process; also where a relative pathspec resolves. */
  cwd: string;
  /** GIT_DIR; when absent the caller passes `-C`-style explicit paths in args. */
  gitDir?: string;
  /** GIT_WORK_TREE. */
  workTree?: string;
  /** Extra environment (GIT_INDEX_FILE, GIT_OBJECT_DIRECTORY, ...). */
  env?: Record<string, string>;
  input?: string | Buffer;
  /** An open file descriptor git reads as its stdin (instead of `input`). */
  stdin?: number;
  /** How stdout and stderr are decoded; 'latin1' keeps every byte (names git keys by bytes). */
  encoding?: 'utf8' | 'latin1';
}

/** The most output one host git may write before Celistra gives up on it (a diff of a huge generated file). */
const MAX_GIT_OUTPUT_BYTES = 256 * 1024 * 1024;

/** How long one host git may run, in seconds, unless CELISTRA_GIT_TIME_LIMIT says otherwise. */
const DEFAULT_GIT_TIME_LIMIT_S = 120;

/**
 * The time limit of one host git, in ms. The agent writes the task's git state, and git
 * opens what it finds there without O_NONBLOCK: a FIFO in place of a loose object, a
 * pack, a ref or packed-refs makes git wait forever for a writer. Unbounded, that hangs
 * `celistra diff`, the after-run step of `celistra run`, and a git worker of the daemon
 * (whose background diff stats run while the agent does), so every git gets a limit and
 * is killed past it, failing with E_GIT.
 */
function gitTimeLimitMs(): number {
  if (limitOverrideMs !== undefined) return limitOverrideMs;
  const raw = process.env.CELISTRA_GIT_TIME_LIMIT;
  if (raw === undefined || raw === '') return DEFAULT_GIT_TIME_LIMIT_S * 1000;
  const s = Number(raw);
  if (!Number.isFinite(s) || s <= 0) throw new CelistraError('E_USAGE', `CELISTRA_GIT_TIME_LIMIT must be a positive number of seconds, not "${raw}"`);
  return Math.ceil(s * 1000);
}

let limitOverrideMs: number | undefined;

/**
 * Run `work` with every host git in it limited to `ms` (this thread only: each of the
 * daemon's git workers has its own copy of this module). The daemon's background diff
 * stats take a shorter limit than a person's diff or pull, so that an agent's trap costs
 * a worker seconds, not minutes.
 */
export function withGitTimeLimit<T>(ms: number, work: () => T): T {
  const before = limitOverrideMs;
  limitOverrideMs = Math.min(ms, before ?? gitTimeLimitMs());
  try {
    return work();
  } finally {
    limitOverrideMs = before;
  }
}

/** spawnSync options that stop one host git at its time limit. */
function timeLimited(): { timeout: number; killSignal: 'SIGKILL' } {
  return { timeout: gitTimeLimitMs(), killSignal: 'SIGKILL' };
}

/** Throws E_GIT, saying why, when git was stopped at its time limit (spawnSync's ETIMEDOUT). */
function failIfOverTime(error: Error | undefined, args: string[], limitMs: number, gitDir: string | undefined): void {
  if ((error as NodeJS.ErrnoException | undefined)?.code !== 'ETIMEDOUT') return;
  throw new CelistraError(
    'E_GIT',
    `git ${args[0]} ran longer than ${limitMs / 1000} s and was stopped`,
    `a FIFO or device the agent put among the task's objects or refs makes git wait forever (look: find ${gitDir ?? "the task's git dir"} -type p -o -type c -o -type b); for a repository that is only slow, raise CELISTRA_GIT_TIME_LIMIT (seconds)`,
  );
}

export interface GitResult {
  status: number;
  stdout: string;
  stderr: string;
}

export function gitEnvironment(opts: Pick<GitRunOptions, 'gitDir' | 'workTree' | 'env'>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v === undefined) continue;
    if (k.startsWith('GIT_') && !KEPT_GIT_VARS.has(k)) continue;
    env[k] = v;
  }
  env.GIT_TERMINAL_PROMPT = '0';
  env.GIT_PAGER = 'cat';
  // Reads must not refresh the index behind the user's back (a refusal changes nothing).
  env.GIT_OPTIONAL_LOCKS = '0';
  env.LC_ALL = 'C';
  if (opts.gitDir) env.GIT_DIR = opts.gitDir;
  if (opts.workTree) env.GIT_WORK_TREE = opts.workTree;
  Object.assign(env, opts.env ?? {});
  return env;
}

/**
 * Filter drivers are named by `.gitattributes` — which the agent writes in its tree —
 * and defined in the user's config (git-lfs installs one globally). Any host git that
 * reads or writes worktree content (`add`, `update-index --refresh`, a checkout) would
 * run the driver's clean/smudge command on the agent's say-so. Git 2.39 has no switch to
 * ignore in-tree attributes, so every filter driver the repository's config defines is
 * overridden to nothing (an empty command is no filter) and made optional: content is
 * then read and written byte for byte. Read afresh for every call, not cached: the
 * daemon lives for days, and a driver configured after a cached read would run.
 */
export function neutralizedFilters(gitDir: string, cwd: string): Record<string, string> {
  const limit = timeLimited();
  const r = childProcess().spawnSync('git', ['config', '-z', '--get-regexp', '^filter\\.'], { cwd, env: gitEnvironment({ gitDir }), encoding: 'utf8', ...limit });
  failIfOverTime(r.error, ['config'], limit.timeout, gitDir);
  if ((r.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') throw new CelistraError('E_GIT', 'git is not installed', 'install it: apt-get install -y git');
  // Status 1: no filter is configured anywhere. Anything else: we cannot tell, so refuse.
  if (r.error || (r.status !== 0 && r.status !== 1)) {
    throw new CelistraError('E_GIT', `could not read the filter drivers configured for ${gitDir}: ${r.error?.message ?? r.stderr.trim()}`, 'fix the git configuration (git config --list shows the problem)');
  }
  const names = new Set<string>();
  for (const entry of (r.stdout ?? '').split('\0')) {
    const key = entry.slice(0, entry.includes('\n') ? entry.indexOf('\n') : undefined);
    const last = key.lastIndexOf('.');
    if (key.startsWith('filter.') && last > 'filter.'.length) names.add(key.slice('filter.'.length, last));
  }
  const settings = [...names].flatMap((n) => [
    [`filter.${n}.clean`, ''],
    [`filter.${n}.smudge`, ''],
    [`filter.${n}.process`, ''],
    [`filter.${n}.required`, 'false'],
  ]);
  // GIT_CONFIG_KEY_n rather than -c: a driver name may hold '=', which -c would split on.
  const env: Record<string, string> = { GIT_CONFIG_COUNT: String(settings.length) };
  settings.forEach(([k, v], i) => {
    env[`GIT_CONFIG_KEY_${i}`] = k!;
    env[`GIT_CONFIG_VALUE_${i}`] = v!;
  });
  return env;
}

/**
 * The environment of a hardened host git: no inherited GIT_*, no filter driver, and where
 * it reads a worktree, no git started in a nested repository (git-subprocess-trap.ts).
 */
function hardenedEnvironment(opts: GitRunOptions): Record<string, string> {
  const env = gitEnvironment(opts);
  if (opts.workTree) env.GIT_EXEC_PATH = gitSubprocessTrap();
  return opts.gitDir ? { ...env, ...neutralizedFilters(opts.gitDir, opts.cwd) } : env;
}

/** Run git and return whatever happened; never throws for a non-zero status. */
export function gitTry(args: string[], opts: GitRunOptions): GitResult {
  const hardening = HARDENING_CONFIG.flatMap((kv) => ['-c', kv]);
  const limit = timeLimited();
  const r = childProcess().spawnSync('git', ['--no-pager', ...hardening, ...args], {
    cwd: opts.cwd,
    env: hardenedEnvironment(opts),
    input: opts.input,
    stdio: [opts.stdin ?? 'pipe', 'pipe', 'pipe'],
    encoding: opts.encoding ?? 'utf8',
    maxBuffer: MAX_GIT_OUTPUT_BYTES,
    ...limit,
  });
  failIfOverTime(r.error, args, limit.timeout, opts.gitDir);
  if (r.error) {
    const err = r.error as NodeJS.ErrnoException;
    if (err.code === 'ENOENT') throw new CelistraError('E_GIT', 'git is not installed', 'install it: apt-get install -y git');
    if (err.code === 'ENOBUFS') throw new CelistraError('E_GIT', `git ${args[0]} wrote more than ${MAX_GIT_OUTPUT_BYTES / 2 ** 20} MiB, more than Celistra reads`, 'read it with git itself (git diff in the main checkout after a pull, or against the task branch)');
    throw new CelistraError('E_GIT', `could not run git: ${err.message}`);
  }
  return { status: r.status ?? 128, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/** Run git; a non-zero status becomes E_GIT with git's own message. */
export function git(args: string[], opts: GitRunOptions): string {
  const r = gitTry(args, opts);
  if (r.status !== 0) {
    const msg = r.stderr.trim().split('\n').filter(Boolean).slice(-3).join('; ') || `exit status ${r.status}`;
    throw new CelistraError('E_GIT', `git ${args[0]} failed: ${msg}`);
  }
  return r.stdout;
}

/** Pipe one git command's stdout into another's stdin (binary-safe). */
export function gitPipe(from: { args: string[]; opts: GitRunOptions }, to: { args: string[]; opts: GitRunOptions }): string {
  const hardening = HARDENING_CONFIG.flatMap((kv) => ['-c', kv]);
  const limit = timeLimited();
  const a = childProcess().spawnSync('git', ['--no-pager', ...hardening, ...from.args], {
    cwd: from.opts.cwd,
    env: hardenedEnvironment(from.opts),
    input: from.opts.input,
    maxBuffer: 4 * 1024 * 1024 * 1024,
    ...limit,
  });
  failIfOverTime(a.error, from.args, limit.timeout, from.opts.gitDir);
  if (a.error || a.status !== 0) {
    throw new CelistraError('E_GIT', `git ${from.args[0]} failed: ${a.error?.message ?? a.stderr.toString().trim()}`);
  }
  return git(to.args, { ...to.opts, input: a.stdout });
}

/**
 * A value for GIT_ALTERNATE_OBJECT_DIRECTORIES: entries are colon-separated, so an
 * entry holding a colon or a quote is written C-quoted, as git reads it.
 */
export function alternatesList(dirs: string[]): string {
  return dirs.map((d) => (/[:"\\]/.test(d) || d.startsWith('"') ? `"${d.replace(/[\\"]/g, (c) => `\\${c}`)}"` : d)).join(':');
}
