import { defineCommand } from 'citty';
import { CelistraError } from '../policy/errors.js';
import { pullWorktree, type PullMode } from '../worktree/pull.js';
import { pullAudited } from '../worktree/pull-audit.js';
import { celistraPaths } from '../policy/paths.js';
import { findWorktree } from '../worktree/lifecycle.js';
import { hostView, nestedRepositories, nestedRepositoriesNote } from '../worktree/inspect.js';
import { runCommand } from './command.js';

export default defineCommand({
  meta: {
    name: 'pull',
    description: "Bring a task's commits into the main checkout's current branch (default: fast-forward, else a merge commit). Refuses on a dirty main checkout or a conflict, changing nothing.",
  },
  args: {
    name: { type: 'positional', description: 'task name', required: false },
    repo: { type: 'string', description: 'a directory in the repository (default: current directory)', valueHint: 'DIR' },
    'ff-only': { type: 'boolean', description: 'only a fast-forward' },
    merge: { type: 'boolean', description: 'fast-forward when possible, else a merge commit (the default)' },
    squash: { type: 'boolean', description: "one new commit with the task's result" },
    json: { type: 'boolean', description: 'print the result as JSON' },
  },
  run: ({ args }) =>
    runCommand(async () => {
      if (!args.name) throw new CelistraError('E_USAGE', 'no worktree name given', 'usage: celistra pull NAME [--ff-only|--merge|--squash]');
      const modes = (['ff-only', 'merge', 'squash'] as const).filter((m) => args[m]);
      if (modes.length > 1) throw new CelistraError('E_USAGE', `choose one of --ff-only, --merge, --squash (got ${modes.map((m) => `--${m}`).join(' ')})`);
      const mode: PullMode = modes[0] ?? 'merge';
      const record = findWorktree(args.name, args.repo);
      const r = pullAudited(celistraPaths().stateDir, record.name, mode, 'cli', () => pullWorktree(record, mode));
      process.stderr.write(nestedRepositoriesNote(record.name, nestedRepositories(hostView(record))));
      if (args.json) process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
      else process.stdout.write(`${r.branch} → ${r.into}: ${r.outcome} (${r.commit.slice(0, 12)})\n`);
    }),
});
