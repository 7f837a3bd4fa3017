import { isCelistraError } from '../policy/errors.js';
import { EXIT_CODES } from './exit-codes.js';

/**
 * Every command body runs through here: a CelistraError becomes one clear line (plus a
 * hint) and its documented exit status; anything else is a bug, reported as such
 * without a stack trace unless CELISTRA_DEBUG is set.
 * The body returns the exit status to use (default 0).
 */
export async function runCommand(body: () => Promise<number | void>): Promise<never> {
  let status: number;
  try {
    status = (await body()) ?? 0;
  } catch (e) {
    if (isCelistraError(e)) {
      process.stderr.write(`celistra: ${e.message}\n`);
      if (e.hint) process.stderr.write(`  hint: ${e.hint}\n`);
      status = EXIT_CODES[e.code];
    } else {
      const err = e as Error;
      process.stderr.write(`celistra: internal error: ${err?.message ?? String(e)}\n`);
      if (process.env.CELISTRA_DEBUG) process.stderr.write(`${err?.stack ?? ''}\n`);
      else process.stderr.write('  hint: set CELISTRA_DEBUG=1 for details, and please report it\n');
      status = EXIT_CODES.E_INTERNAL;
    }
  }
  process.exitCode = status;
  // Let stdout/stderr drain before leaving; citty would otherwise keep going. A stdout
  // that is gone (a terminal that hung up: EIO; a closed pipe: EPIPE) must not replace
  // the status with Node's crash on an unhandled stream error.
  await new Promise<void>((r) => {
    process.stdout.once('error', () => r());
    process.stdout.write('', () => r());
  });
  process.exit(status);
}


/**
 * citty's own errors (unknown command, missing argument) arrive as plain errors with
 * terminal colours in the message: report them as usage errors, exit 64.
 */
export function exitWithUsageError(e: unknown, hint: string): never {
  const message = (e as Error)?.message ?? String(e);
  process.stderr.write(`celistra: ${message.replace(/\x1b\[[0-9;]*m/g, '')}\n  hint: ${hint}\n`);
  process.exit(EXIT_CODES.E_USAGE);
}
