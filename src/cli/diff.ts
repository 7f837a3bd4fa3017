import { defineCommand } from 'citty';
import { CelistraError } from '../policy/errors.js';
import { hostView, nestedRepositories, nestedRepositoriesNote, worktreeDiff } from '../worktree/inspect.js';
import { findWorktree } from '../worktree/lifecycle.js';
import { guardNote } from '../worktree/host-git-guard.js';
import { runCommand } from './command.js';

export default defineCommand({
  meta: { name: 'diff', description: "A task's changes against its base: its commits plus uncommitted work (new files included)." },
  args: {
    name: { type: 'positional', description: 'task name', required: false },
    repo: { type: 'string', description: 'a directory in the repository (default: current directory)', valueHint: 'DIR' },
    stat: { type: 'boolean', description: 'a diffstat instead of the patch' },
  },
  run: ({ args }) =>
    runCommand(async () => {
      if (!args.name) throw new CelistraError('E_USAGE', 'no worktree name given', 'usage: celistra diff NAME [--stat]');
      const record = findWorktree(args.name, args.repo);
      const view = hostView(record);
      process.stderr.write(guardNote(record.name, view.guard));
      process.stdout.write(worktreeDiff(view, Boolean(args.stat)));
      process.stderr.write(nestedRepositoriesNote(record.name, nestedRepositories(view)));
    }),
});
