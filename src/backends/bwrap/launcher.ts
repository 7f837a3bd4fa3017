import { existsSync } from 'node:fs';
import { CelistraError } from '../../core/errors.js';

/**
 * bwrap is started through a short bash script that runs, unsandboxed, in the process
 * the launcher spawned, and then execs bwrap (same pid). It does two things bwrap
 * cannot do by itself:
 *
 * 1. Close every descriptor above 2. bwrap hands the command all it inherits, and
 *    Celistra may itself have inherited some without close-on-exec (from a shell, an
 *    IDE, a test harness): a writable one pointing outside the workspace would be a
 *    hole in the fence.
 * 2. Choose the session. Started in a PTY that Celistra owns, this process is already a
 *    session leader with that PTY as controlling terminal: TIOCSTI can only reach
 *    Celistra's own PTY, and the command must stay in that session to get SIGWINCH and
 *    ^C from it (bwrap forwards no signals). Started any other way it shares the
 *    caller's session and possibly the user's terminal, so bwrap gets --new-session.
 *    This is setsid(2)'s own rule (it fails for a session leader), which the Landlock
 *    helper relies on too.
 *
 * bash because dash cannot name descriptors above 9. No startup file may run first:
 * `--posix` skips BASH_ENV, and `--norc` skips ~/.bashrc, which bash otherwise reads when
 * its stdin is a socket (it takes that for rshd; Node's stdio pipes are socketpairs).
 */
export const LAUNCH_SCRIPT = [
  'for fd in /proc/self/fd/*; do fd=${fd##*/}; if [ "$fd" -gt 2 ]; then eval "exec $fd>&-"; fi; done',
  'read -r stat < /proc/self/stat',
  'f=(${stat##*) })',
  'if [ "${f[3]}" = "$$" ]; then exec "$@"; fi',
  'b=$1; shift; exec "$b" --new-session "$@"',
].join('\n');

const BASH_CANDIDATES = ['/bin/bash', '/usr/bin/bash'];

export function findBash(): string | undefined {
  return BASH_CANDIDATES.find((p) => existsSync(p));
}

export function locateBash(): string {
  const found = findBash();
  if (!found) {
    throw new CelistraError('E_NO_BACKEND', 'the bwrap backend starts bwrap through bash (to close inherited file descriptors and pick the session), and no bash was found at /bin/bash or /usr/bin/bash', 'install bash (apt-get install -y bash)');
  }
  return found;
}

/** `args` for spawning `bash`: the script, then bwrap and its own arguments. */
export function launcherArgs(bwrap: string, bwrapArgs: string[]): string[] {
  return ['--norc', '--posix', '-c', LAUNCH_SCRIPT, 'celistra-bwrap', bwrap, ...bwrapArgs];
}
