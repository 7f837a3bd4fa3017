import { runCommand } from 'citty';
import run from './run.js';
import { exitWithUsageError } from './command.js';

// The fast path for `celistra run`: bin/celistra.js loads this file (bundled by
// scripts/bundle.js into dist/run/) instead of the full CLI, because every fenced
// command pays Celistra's start-up time. Help still goes through the full CLI.
// No top-level await: the bundle is CommonJS, so V8's code cache can be used for it.
runCommand(run, { rawArgs: process.argv.slice(3) }).catch((e: unknown) => exitWithUsageError(e, 'celistra run --help'));
