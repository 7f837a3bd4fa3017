import { runCommand } from 'citty';
import run from './run.js';
import { exitWithUsageError } from './command.js';

// The fast path for `celistra run`: bin/celistra.js loads this file (bundled by
// scripts/bundle.js into dist/run/) instead of the full CLI, because every fenced
// command pays Celistra's start-up time. Help still goes through the full CLI.
try {
  await runCommand(run, { rawArgs: process.argv.slice(3) });
} catch (e) {
  exitWithUsageError(e, 'celistra run --help');
}
