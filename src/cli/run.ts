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
    description:
      'Run one command fenced to its workspace: it may write only there and in its private TMPDIR. ' +
      'With stdin and stdout on your terminal it gets a terminal of Celistra\'s own; otherwise a file or your terminal on its stdin, stdout or stderr ' +
      'reaches it through a pipe Celistra relays, so tools do not colour unless asked (FORCE_COLOR=1, --color=always; docs/security.md, "Inherited stdio").',
  },
  args: cittyArgs(RUN_FLAGS),
  run: ({ rawArgs }) => runCommand(async () => runFenced(parseRunArgs(rawArgs))),
});
