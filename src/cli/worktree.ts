import { defineCommand } from 'citty';
import { CelistraError } from '../policy/errors.js';
import { addWorktree, findWorktree, listWorktrees, removeWorktree, type WorktreeListing } from '../worktree/lifecycle.js';
import { runWorktreeSetup } from '../worktree/setup.js';
import { releaseAdoption } from '../worktree/release.js';
import { nestedRepositoriesNote } from '../worktree/inspect.js';
import { guardNote } from '../worktree/host-git-guard.js';
import { runCommand } from './command.js';

const add = defineCommand({
  meta: {
    name: 'add',
    description: 'Create a task worktree: branch agent/NAME from the base, in ../<repo>-NAME, with .worktreeinclude files copied and the setup command (.celistra.json worktree.setup) run fenced to the new worktree.',
  },
  args: {
    name: { type: 'positional', description: 'task name (letters, digits, . _ -)', required: false },
    repo: { type: 'string', description: 'a directory in the repository (default: current directory)', valueHint: 'DIR' },
    base: { type: 'string', description: 'branch, tag or commit to start from (default: the current branch)', valueHint: 'REF' },
    path: { type: 'string', description: 'where to create the worktree (default: ../<repo>-NAME)', valueHint: 'DIR' },
    json: { type: 'boolean', description: 'print the created worktree as JSON' },
    'setup-unsandboxed': { type: 'boolean', description: 'run the setup command UNSANDBOXED when no sandbox backend is available (warned and audited)' },
  },
  run: ({ args }) =>
    runCommand(async () => {
      if (!args.name) throw new CelistraError('E_USAGE', 'no worktree name given', 'usage: celistra worktree add NAME [--repo DIR] [--base REF] [--path DIR]');
      const progress = (line: string) => process.stderr.write(`celistra: ${line}\n`);
      const result = addWorktree({ name: args.name, repo: args.repo, base: args.base, path: args.path, progress });
      if (result.setup) await runWorktreeSetup(result.record, result.setup, { unsandboxed: args['setup-unsandboxed'], progress });
      if (args.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
      else process.stdout.write(`${result.record.path}\n`);
    }),
});

function renderTable(rows: WorktreeListing[]): string {
  if (rows.length === 0) return 'no task worktrees (create one with `celistra worktree add NAME`)\n';
  const table = [['NAME', 'BRANCH', 'BASE', 'AHEAD', 'BEHIND', 'DIRTY', 'AGENT', 'PATH']];
  for (const r of rows) {
    table.push([
      r.name,
      r.tip ? r.branch : `${r.branch} (deleted)`,
      r.base,
      String(r.ahead ?? '-'),
      String(r.behind ?? '-'),
      r.dirty === null ? (r.exists ? '-' : 'missing') : r.dirty ? 'yes' : 'no',
      r.agent ?? '',
      r.path,
    ]);
  }
  const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
  return table.map((row) => row.map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd()).join('\n') + '\n';
}

const ls = defineCommand({
  meta: { name: 'ls', description: 'List the task worktrees of this repository: branch, base, ahead/behind, dirty, agent.' },
  args: {
    repo: { type: 'string', description: 'a directory in the repository (default: current directory)', valueHint: 'DIR' },
    json: { type: 'boolean', description: 'print JSON' },
  },
  run: ({ args }) =>
    runCommand(async () => {
      const rows = listWorktrees(args.repo);
      process.stdout.write(args.json ? `${JSON.stringify(rows, null, 2)}\n` : renderTable(rows));
      for (const r of rows) process.stderr.write(guardNote(r.name, r.gitGuard));
      if (!args.json) for (const r of rows) process.stderr.write(nestedRepositoriesNote(r.name, r.nested));
    }),
});

const rm = defineCommand({
  meta: {
    name: 'rm',
    description: 'Remove a task worktree. Its commits are kept on the branch agent/NAME in the main repository; uncommitted work blocks removal unless --force.',
  },
  args: {
    name: { type: 'positional', description: 'task name', required: false },
    repo: { type: 'string', description: 'a directory in the repository (default: current directory)', valueHint: 'DIR' },
    force: { type: 'boolean', description: 'drop uncommitted work; with --delete-branch, also unmerged commits' },
    'delete-branch': { type: 'boolean', description: 'also delete the branch (refused if unmerged, unless --force)' },
  },
  run: ({ args }) =>
    runCommand(async () => {
      if (!args.name) throw new CelistraError('E_USAGE', 'no worktree name given', 'usage: celistra worktree rm NAME [--force] [--delete-branch]');
      const record = findWorktree(args.name, args.repo);
      const r = removeWorktree(record, { force: args.force, deleteBranch: args['delete-branch'] });
      const branch = r.branchDeleted ? `branch ${record.branch} deleted` : r.branchKept ? `branch ${record.branch} kept at ${r.branchKept.slice(0, 12)}` : '';
      process.stdout.write(`removed ${record.path}${branch ? `; ${branch}` : ''}\n`);
    }),
});

const release = defineCommand({
  meta: {
    name: 'release',
    description: 'Give a worktree made by `git worktree add` back to plain git: its commits go onto its branch in the main repository, and Celistra forgets it (the next fenced run adopts it again).',
  },
  args: {
    name: { type: 'positional', description: 'task name (the worktree directory name, as `celistra worktree ls` shows it)', required: false },
    repo: { type: 'string', description: 'a directory in the repository (default: current directory)', valueHint: 'DIR' },
    json: { type: 'boolean', description: 'print JSON' },
  },
  run: ({ args }) =>
    runCommand(async () => {
      if (!args.name) throw new CelistraError('E_USAGE', 'no worktree name given', 'usage: celistra worktree release NAME');
      const record = findWorktree(args.name, args.repo);
      const { tip } = releaseAdoption(record);
      if (args.json) process.stdout.write(`${JSON.stringify({ released: record.name, path: record.path, branch: record.branch, tip: tip ?? null }, null, 2)}\n`);
      else process.stdout.write(`released ${record.path}: plain git worktree again on ${record.branch}${tip ? ` at ${tip.slice(0, 12)}` : ''}\n`);
    }),
});

export default defineCommand({
  meta: { name: 'worktree', description: 'Task worktrees: one per agent, on its own branch agent/NAME.' },
  subCommands: { add, ls, rm, release },
});
