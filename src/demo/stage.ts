import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { CelistraError } from '../policy/errors.js';
import { git } from '../worktree/git.js';

/**
 * The demo's scratch world: a home, XDG dirs and a small project, all under one
 * directory, so that nothing the demo (or its agents) does reaches the user's real
 * home, git config or Celistra state.
 */
export interface DemoStage {
  root: string;
  /** True when the demo made `root` itself (then it removes it, not only its contents). */
  createdRoot: boolean;
  home: string;
  /** The main checkout of the scratch project. */
  repo: string;
  /** A file in the scratch home that no agent may change. */
  canary: string;
  /** The environment of everything the demo runs: scratch HOME/XDG, a fixed git identity. */
  env: Record<string, string>;
}

/** The scratch project's files, committed once on `main`. */
export const PROJECT_FILES: Record<string, string> = {
  'README.md': '# demo project\n\nA scratch repository made by `celistra demo`.\n',
  'greeting.txt': 'hello\n',
  'todo.txt': '- write the demo\n',
};

const IDENTITY = {
  GIT_AUTHOR_NAME: 'Celistra Demo',
  GIT_AUTHOR_EMAIL: 'demo@celistra.invalid',
  GIT_COMMITTER_NAME: 'Celistra Demo',
  GIT_COMMITTER_EMAIL: 'demo@celistra.invalid',
};

/** Create the stage in `dir` (created if missing, refused if not empty) or in a new temp dir. */
export function createStage(dir?: string): DemoStage {
  const { root, createdRoot } = prepareRoot(dir);
  try {
    const home = join(root, 'home');
    mkdirSync(home, { mode: 0o700 });
    const runtime = join(root, 'run');
    mkdirSync(runtime, { mode: 0o700 });
    const canary = join(home, 'canary.txt');
    writeFileSync(canary, 'the agents must not change this file\n');
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
      HOME: home,
      XDG_STATE_HOME: join(root, 'state'),
      XDG_CONFIG_HOME: join(root, 'config'),
      XDG_CACHE_HOME: join(root, 'cache'),
      XDG_RUNTIME_DIR: runtime,
      // Error messages the demo quotes ("Read-only file system") in one language.
      LC_ALL: 'C',
      ...IDENTITY,
    };
    // The user's own fence settings (CELISTRA_BWRAP, the test-only forcing variables)
    // must reach the agents' `celistra run`, or it would probe a different machine.
    for (const [k, v] of Object.entries(process.env)) if (k.startsWith('CELISTRA_') && v !== undefined) env[k] = v;
    const repo = join(root, 'project');
    mkdirSync(repo);
    for (const [name, content] of Object.entries(PROJECT_FILES)) writeFileSync(join(repo, name), content);
    const inRepo = { cwd: repo, env };
    git(['init', '-q', '-b', 'main', repo], { cwd: root, env });
    git(['add', '--', ...Object.keys(PROJECT_FILES)], inRepo);
    git(['commit', '-q', '-m', 'demo project: first commit'], inRepo);
    return { root, createdRoot, home, repo, canary, env };
  } catch (e) {
    clearRoot(root, createdRoot);
    throw e;
  }
}

export function removeStage(stage: DemoStage): void {
  clearRoot(stage.root, stage.createdRoot);
}

function prepareRoot(dir: string | undefined): { root: string; createdRoot: boolean } {
  if (dir === undefined) {
    const root = realpathSync(mkdtempSync(join(tmpdir(), 'celistra-demo-')));
    // The agents may run as another uid inside a user namespace; they need to traverse it.
    chmodSync(root, 0o755);
    return { root, createdRoot: true };
  }
  const abs = resolve(dir);
  if (!existsSync(abs)) {
    mkdirSync(abs, { recursive: true });
    return { root: realpathSync(abs), createdRoot: true };
  }
  if (!lstatSync(abs).isDirectory()) {
    throw new CelistraError('E_CONFLICT', `--dir ${abs} exists and is not a directory`, 'pass a new or empty directory');
  }
  if (readdirSync(abs).length > 0) {
    throw new CelistraError('E_CONFLICT', `--dir ${abs} is not empty`, 'pass a new or empty directory: the demo removes what it creates there');
  }
  return { root: realpathSync(abs), createdRoot: false };
}

/** Remove the stage: the directory itself when the demo made it, else only its contents (it was empty). */
function clearRoot(root: string, createdRoot: boolean): void {
  if (createdRoot) {
    rmSync(root, { recursive: true, force: true });
    return;
  }
  for (const entry of readdirSync(root)) rmSync(join(root, entry), { recursive: true, force: true });
}
