import { defineCommand } from 'citty';
import { runCommand } from './command.js';
import { cittyArgs } from './flag-table.js';
import { RUN_FLAGS, parseRunArgs } from './run-flags.js';
import { runFenced } from './run-fenced.js';

// `celistra run` in the full CLI: its --help, and the command itself when the fast path
// (run-entry.ts, bundled) is not built. Both parse the same table the same way.
export default defineCommand({
  meta: {
    name: 'run',
    description: 'Run one command fenced to its workspace: it may write only there and in its private TMPDIR.',
  },
  args: cittyArgs(RUN_FLAGS),
  run: ({ rawArgs }) => runCommand(async () => runFenced(parseRunArgs(rawArgs))),
});
