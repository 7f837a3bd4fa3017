/**
 * A stage for the real-agent loop tests: a scratch home and XDG dirs, a git repository
 * `proj` holding the buggy calc.js (test/support/claude-task.ts), the agent's workspace in
 * one of the three layouts users give Celistra, and a sibling worktree of the same kind
 * that belongs to another agent.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, readdirSync, readFileSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { expandHome } from '../../src/policy/policy.js';
import { PRESETS, seedText } from '../../src/policy/presets/catalog.js';
import { agentStateDirPath } from '../../src/policy/presets/state-dir.js';
import { isWithin } from '../../src/policy/path-within.js';
import { CELISTRA_BIN } from '../support/celistra-cli.js';
import { CLAUDE_BIN, claudeAvailable } from '../support/claude-launch.js';
import { seedTaskRepo } from '../support/claude-task.js';
import { snapshotTree } from '../support/fence-stage.js';
import { scratchDir } from '../support/scratch-dir.js';
import { taskWorktreeSkip } from '../support/fence-skip.js';

/** Where the workspace comes from. */
export type Layout = 'celistra-worktree' | 'main-checkout' | 'plain-worktree';

export const LAYOUTS: Record<Layout, string> = {
  'celistra-worktree': 'a `celistra worktree add` worktree',
  'main-checkout': "the repository's main checkout",
  'plain-worktree': 'a plain `git worktree add` worktree',
};

/**
 * With no writable root under /tmp, both backends give the agent a private /tmp, which
 * would hide an agent binary living under /tmp (the unprivileged pass of `npm test` may
 * run from a copy there): then the stage goes under /tmp too, as preset-agents does.
 */
const STAGE_PARENT = isWithin(realpathSync(dirname(CLAUDE_BIN)), '/tmp') ? '/tmp' : '/var/tmp';

export interface LoopStage {
  root: string;
  home: string;
  /** The environment of every command of the stage (no variable of the caller's leaks in). */
  env: Record<string, string>;
  repo: string;
  /** The agent's workspace and the branch it commits on. */
  ws: string;
  branch: string;
  /** Another agent's worktree, and main's commit every branch starts from. */
  sibling: string;
  baseCommit: string;
}

export function loopStage(layout: Layout): LoopStage {
  const root = realpathSync(scratchDir('celistra-agent-loop-', STAGE_PARENT));
  chmodSync(root, 0o755);
  const home = join(root, 'home');
  mkdirSync(home);
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    HOME: home,
    TERM: 'xterm-256color',
    XDG_STATE_HOME: join(root, 'xdg', 'state'),
    XDG_CONFIG_HOME: join(root, 'xdg', 'config'),
    XDG_RUNTIME_DIR: join(root, 'run'),
    GIT_AUTHOR_NAME: 'Agent',
    GIT_AUTHOR_EMAIL: 'agent@example.test',
    GIT_COMMITTER_NAME: 'Agent',
    GIT_COMMITTER_EMAIL: 'agent@example.test',
    GIT_CONFIG_NOSYSTEM: '1',
  };
  mkdirSync(env.XDG_RUNTIME_DIR!, { mode: 0o700 });
  const repo = join(root, 'proj');
  mkdirSync(repo);
  const baseCommit = seedTaskRepo(repo, env);
  const run = (file: string, args: string[]) => execFileSync(file, args, { cwd: repo, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const worktree = (name: string): string => {
    if (layout === 'plain-worktree') run('git', ['worktree', 'add', '-q', join('..', `proj-${name}`), '-b', `agent/${name}`, 'main']);
    else run(process.execPath, [CELISTRA_BIN, 'worktree', 'add', name]);
    return join(root, `proj-${name}`);
  };
  const sibling = worktree('task-2');
  if (layout === 'main-checkout') return { root, home, env, repo, ws: repo, branch: 'main', sibling, baseCommit };
  return { root, home, env, repo, ws: worktree('task-1'), branch: 'agent/task-1', sibling, baseCommit };
}

export const ALL_TOOLS = ['Read', 'Edit', 'Write', 'Bash'];

/** What each protected entry of the agent's config dir holds on the host: a file's content, a dir's listing. */
export function protectedEntries(stage: LoopStage): Record<string, string | string[]> {
  const state = PRESETS.claude!.stateDir!;
  const dir = agentStateDirPath(expandHome(state.base, stage.home), stage.ws);
  return Object.fromEntries(state.protectedEntries.map((e) => [e.path, e.kind === 'file' ? readFileSync(join(dir, e.path), 'utf8') : readdirSync(join(dir, e.path))]));
}

/** The same entries as the preset seeds them (claude's seeds do not depend on the workspace). */
export function seededEntries(): Record<string, string | string[]> {
  return Object.fromEntries(PRESETS.claude!.stateDir!.protectedEntries.map((e) => [e.path, e.kind === 'file' ? seedText(e.seed, '') : []]));
}

/** Why the loop cannot run under `backend` here, or false. */
export function skipReason(backend: 'landlock' | 'bwrap'): string | false {
  if (process.platform !== 'linux') return 'the landlock and bwrap backends are Linux-only';
  const missing = claudeAvailable();
  if (missing) return missing;
  return taskWorktreeSkip(backend);
}

/**
 * A checkout's files as the host has them, without its `.git`: Celistra itself writes in
 * the main repository's `.git` when it adopts a plain worktree (docs/git-in-the-fence.md),
 * and git-dir writes by the agent are the git fence tests' business.
 */
export function checkoutSnapshot(dir: string): unknown {
  return readdirSync(dir).filter((e) => e !== '.git').sort().map((e) => [e, snapshotTree(join(dir, e))]);
}
