// Shared by the worktree and git tests: an isolated home and XDG dirs (removed at exit
// unless CELISTRA_KEEP_SCRATCH is set), a real git repository, the real CLI, and host
// snapshots that tell whether anything changed.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { scratchDir } from './support/scratch-dir.js';

/** The repository root, found from dist/test/... or dist/test/sandbox/... */
function repoRoot(): string {
  let dir = fileURLToPath(new URL('.', import.meta.url));
  while (!existsSync(join(dir, 'bin', 'celistra.js'))) dir = join(dir, '..');
  return dir;
}
export const CLI = join(repoRoot(), 'bin', 'celistra.js');

export interface Scratch {
  root: string;
  env: Record<string, string>;
}

/** A scratch root with its own HOME and XDG dirs; `parent` when the system temp dir will not do. */
export function scratch(label: string, parent?: string): Scratch {
  const root = realpathSync(scratchDir(`celistra-${label}-`, parent));
  chmodSync(root, 0o755);
  const home = join(root, 'home');
  mkdirSync(home);
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: home,
    XDG_STATE_HOME: join(root, 'state'),
    XDG_CONFIG_HOME: join(root, 'config'),
    XDG_RUNTIME_DIR: join(root, 'run'),
    GIT_AUTHOR_NAME: 'Test Author',
    GIT_AUTHOR_EMAIL: 'author@example.test',
    GIT_COMMITTER_NAME: 'Test Committer',
    GIT_COMMITTER_EMAIL: 'committer@example.test',
    GIT_CONFIG_NOSYSTEM: '1',
  };
  mkdirSync(env.XDG_RUNTIME_DIR!, { mode: 0o700 });
  return { root, env };
}

export interface Ran {
  status: number;
  stdout: string;
  stderr: string;
}

export function run(cmd: string, args: string[], cwd: string, env: Record<string, string>, input?: string): Ran {
  const r = spawnSync(cmd, args, { cwd, env, encoding: 'utf8', input });
  if (r.error) throw r.error;
  return { status: r.status ?? 128, stdout: r.stdout, stderr: r.stderr };
}

export function sh(script: string, cwd: string, env: Record<string, string>): Ran {
  return run('sh', ['-c', script], cwd, env);
}

/** Run a shell script and fail loudly if it fails: for setting up a stage. */
export function must(script: string, cwd: string, env: Record<string, string>): string {
  const r = sh(script, cwd, env);
  if (r.status !== 0) throw new Error(`stage step failed (${r.status}): ${script}\n${r.stdout}${r.stderr}`);
  return r.stdout;
}

export function celistra(args: string[], cwd: string, env: Record<string, string>): Ran {
  return run(process.execPath, [CLI, ...args], cwd, env);
}

/** A repository `repo` under the scratch root with two commits on `main`. */
export function makeRepo(s: Scratch, name = 'repo'): string {
  const repo = join(s.root, name);
  mkdirSync(repo);
  must('git init -q -b main . && echo one > README && git add README && git commit -qm one && echo two >> README && git commit -qam two', repo, s.env);
  return repo;
}

/**
 * Everything about a tree that a change could touch: per entry its type, mode, size,
 * mtime, link count and content hash (or link target), sorted by path.
 */
export function snapshot(...roots: string[]): string {
  const lines: string[] = [];
  const walk = (p: string) => {
    const st = lstatSync(p, { throwIfNoEntry: false });
    if (!st) {
      lines.push(`${p} absent`);
      return;
    }
    const meta = `${p} mode=${st.mode.toString(8)} nlink=${st.nlink} mtime=${st.mtimeMs}`;
    if (st.isSymbolicLink()) lines.push(`${meta} -> ${readlinkSync(p)}`);
    else if (st.isDirectory()) {
      lines.push(`${meta} dir`);
      for (const n of readdirSync(p).sort()) walk(join(p, n));
    } else lines.push(`${meta} size=${st.size} sha=${createHash('sha256').update(readFileSync(p)).digest('hex')}`);
  };
  for (const r of roots) walk(r);
  return lines.join('\n');
}

export function write(path: string, content: string): void {
  writeFileSync(path, content);
}
