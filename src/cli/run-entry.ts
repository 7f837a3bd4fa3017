import { runCommand } from './command.js';
import { parseRunArgs } from './run-flags.js';
import { runFenced } from './run-fenced.js';

// The fast path for `celistra run`: bin/celistra.js loads this file (bundled by
// scripts/bundle.js into dist/run/) instead of the full CLI, because every fenced
// command pays Celistra's start-up time. No citty here (its parser and case conversions
// cost ~1 ms per run): the flag table is parsed by flag-table.ts. Help still goes
// through the full CLI. No top-level await: the bundle is CommonJS, so V8's code cache
// can be used for it.
void runCommand(async () => runFenced(parseRunArgs(process.argv.slice(3))));
