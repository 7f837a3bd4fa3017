/**
 * A commit in a repository with 10,000 files: git's own cost in a plain `git worktree
 * add` worktree, the same in a Celistra task worktree (shadow common dir + alternates),
 * and through `celistra run` unfenced (--backend none) and fenced (landlock, bwrap).
 * Rounds interleave the variants so that drift hits all alike. Results: docs/benchmarks/git.md.
 * Run: npx tsc -p tsconfig.json && node dist/bench/git-commit.js [--files N] [--runs N]
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { backendByName } from '../src/run/backend-selection.js';
import { machineLine, median } from './stats.js';

const argv = process.argv.slice(2);
const flag = (name: string, dflt: number) => {
  const i = argv.indexOf(`--${name}`);
  return i === -1 ? dflt : Number(argv[i + 1]);
};
const FILES = flag('files', 10_000);
const RUNS = flag('runs', 15);
const cli = fileURLToPath(new URL('../../bin/celistra.js', import.meta.url));
const root = mkdtempSync(join(process.env.BENCH_DIR ?? '/var/tmp', 'celistra-bench-git-'));
const env: Record<string, string> = {
  PATH: process.env.PATH ?? '/usr/bin:/bin',
  HOME: join(root, 'home'),
  XDG_STATE_HOME: join(root, 'state'),
  XDG_CONFIG_HOME: join(root, 'config'),
  XDG_RUNTIME_DIR: join(root, 'run'),
  GIT_AUTHOR_NAME: 'Bench',
  GIT_AUTHOR_EMAIL: 'bench@example.test',
  GIT_COMMITTER_NAME: 'Bench',
  GIT_COMMITTER_EMAIL: 'bench@example.test',
};
mkdirSync(env.HOME!);
mkdirSync(env.XDG_RUNTIME_DIR!, { mode: 0o700 });

function sh(cmd: string, cwd: string): void {
  const r = spawnSync('sh', ['-c', cmd], { cwd, env, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd}: ${r.stderr}`);
}

function timed(file: string, args: string[], cwd: string): number {
  const t0 = performance.now();
  const r = spawnSync(file, args, { cwd, env, stdio: ['ignore', 'ignore', 'pipe'] });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${file} ${args.join(' ')}: ${r.stderr}`);
  return ms;
}

const repo = join(root, 'repo');
mkdirSync(repo);
for (let d = 0; d < FILES / 100; d++) {
  mkdirSync(join(repo, `d${d}`));
  for (let f = 0; f < 100; f++) writeFileSync(join(repo, `d${d}`, `f${f}.txt`), `file ${d}/${f}\n`.repeat(4));
}
// Packed, as a real repository is: 10k loose objects would set off `gc --auto` on commit.
sh('git init -q -b main . && git add -A && git -c gc.auto=0 commit -qm files && git repack -adq && git prune-packed', repo);
sh(`git worktree add -q -b plain ${join(root, 'plain')}`, repo);
sh(`node ${cli} worktree add task`, repo);
const task = join(root, 'repo-task');
const commit = (i: number) => `echo ${i} >> d0/f0.txt && git commit -qam c${i}`;

type Variant = { name: string; run: (i: number) => number };
const variants: Variant[] = [
  { name: 'git commit, plain `git worktree add` worktree', run: (i) => timed('sh', ['-c', commit(i)], join(root, 'plain')) },
  { name: 'git commit, Celistra task worktree (shadow dir)', run: (i) => timed('sh', ['-c', commit(i)], task) },
  { name: 'celistra run --backend none -- (same commit)', run: (i) => timed(process.execPath, [cli, 'run', '--backend', 'none', '--worktree', 'task', '--', 'sh', '-c', commit(i)], repo) },
];
for (const b of ['landlock', 'bwrap'] as const) {
  const caps = backendByName(b).probe();
  if (caps.available) {
    variants.push({ name: `celistra run --backend ${b} -- (same commit)`, run: (i) => timed(process.execPath, [cli, 'run', '--backend', b, '--worktree', 'task', '--', 'sh', '-c', commit(i)], repo) });
  } else process.stdout.write(`(${b} not measured: ${caps.unavailableReason})\n`);
}

// What resolving the task and building its git grants adds to `celistra run` itself.
const scratchDir = join(root, 'not-a-worktree');
mkdirSync(scratchDir);
variants.push(
  { name: 'celistra run --backend none --workspace (plain dir) -- true', run: () => timed(process.execPath, [cli, 'run', '--backend', 'none', '--workspace', scratchDir, '--', 'true'], repo) },
  { name: 'celistra run --backend none --worktree task -- true', run: () => timed(process.execPath, [cli, 'run', '--backend', 'none', '--worktree', 'task', '--', 'true'], repo) },
);

const samples = variants.map(() => [] as number[]);
let i = 0;
for (const v of variants) v.run(i++); // warm the page cache and git's index stat data
for (let r = 0; r < RUNS; r++) variants.forEach((v, k) => samples[k]!.push(v.run(i++)));

const med = samples.map(median);
const lines = [
  `machine: ${machineLine()}`,
  `repository: ${FILES} files; ${RUNS} rounds, variants interleaved; median wall time per commit`,
  '',
  '| variant | median ms | ratio |',
  '|---|---:|---:|',
  ...variants.map((v, k) => {
    const ref = v.name.startsWith('git commit') ? 0 : v.name.endsWith('-- true') ? variants.length - 2 : 2;
    const ratio = k === ref ? '1.00× (reference)' : `${(med[k]! / med[ref]!).toFixed(2)}× of row ${ref + 1}`;
    return `| ${k + 1}. ${v.name} | ${med[k]!.toFixed(1)} | ${ratio} |`;
  }),
];
process.stdout.write(`${lines.join('\n')}\n`);
rmSync(root, { recursive: true, force: true });
