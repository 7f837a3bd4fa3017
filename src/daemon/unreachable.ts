import { CelistraError } from '../policy/errors.js';

const NOT_RUNNING_HINT = 'start it with `celistra daemon start` (or run `celistra daemon` in another terminal)';

/**
 * What a failed connect to the daemon's socket means: not running, or unreachable. Its own
 * file because both the trusted connect (socket-trust.ts) and the answer readers use it.
 */
export function unreachable(socketPath: string, e: NodeJS.ErrnoException, what: string): CelistraError {
  if (e.code === 'ENOENT' || e.code === 'ECONNREFUSED') {
    return new CelistraError('E_DAEMON', `the Celistra daemon is not running (no socket at ${socketPath})`, NOT_RUNNING_HINT);
  }
  return new CelistraError('E_DAEMON', `${what} failed: ${e.message}`);
}

