import { runCommand } from 'citty';
import run from './run.js';
import { EXIT_CODES } from './exit-codes.js';

// The fast path for `celistra run`: bin/celistra.js loads this file (bundled by
// scripts/bundle.js into dist/run/) instead of the full CLI, because every fenced
// command pays Celistra's start-up time. Help still goes through the full CLI.
try {
  await runCommand(run, { rawArgs: process.argv.slice(3) });
} catch (e) {
  process.stderr.write(`celistra: ${(e as Error).message.replace(/\x1b\[[0-9;]*m/g, '')}\n  hint: celistra run --help\n`);
  process.exit(EXIT_CODES.E_USAGE);
}
