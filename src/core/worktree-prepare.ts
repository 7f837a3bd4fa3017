import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, lstatSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { CelistraError } from './errors.js';
import { git } from './git.js';
import type { MainRepo } from './worktree-repo.js';

/**
 * Getting a fresh task worktree ready to work in: untracked files it needs (`.env`,
 * local config) and a setup command (`npm ci`). Both come from the main checkout,
 * which the user controls.
 */

/** The file listing untracked files to copy, in .gitignore syntax. */
export const WORKTREE_INCLUDE_FILE = '.worktreeinclude';
/** The repository's Celistra config: `{ "worktree": { "setup": "npm ci" } }`. */
export const REPO_CONFIG_FILE = '.celistra.json';

/** Copy the main checkout's untracked files matched by `.worktreeinclude`; returns their paths. */
export function copyIncludedFiles(repo: MainRepo, worktree: string): string[] {
  const list = join(repo.top, WORKTREE_INCLUDE_FILE);
  if (!existsSync(list)) return [];
  const out = git(['ls-files', '-z', '--others', '--ignored', `--exclude-from=${list}`], { cwd: repo.top, gitDir: repo.commonDir, workTree: repo.top });
  const copied: string[] = [];
  for (const rel of out.split('\0').filter(Boolean)) {
    const from = join(repo.top, rel);
    const st = lstatSync(from);
    if (!st.isFile()) continue;
    const to = join(worktree, rel);
    mkdirSync(dirname(to), { recursive: true });
    copyFileSync(from, to);
    chmodSync(to, statSync(from).mode & 0o777);
    copied.push(rel);
  }
  return copied;
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

/** Run the setup command in the worktree, its output shown on our stderr as it comes. */
export function runSetup(command: string, worktree: string): void {
  const r = spawnSync('sh', ['-c', command], { cwd: worktree, stdio: ['ignore', 2, 2] });
  if (r.error) throw new CelistraError('E_SPAWN', `could not run the setup command: ${r.error.message}`);
  if (r.status !== 0) {
    throw new CelistraError(
      'E_SPAWN',
      `the setup command \`${command}\` failed (exit status ${r.status ?? `signal ${r.signal}`}); the worktree is kept at ${worktree}`,
      'fix it and run the command there by hand, or remove the worktree with `celistra worktree rm NAME --force`',
    );
  }
}
