import { existsSync } from 'node:fs';
import { CelistraError } from '../../policy/errors.js';

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
 * 3. Hand bwrap the seccomp filter (src/backends/seccomp/) on descriptor 3, for
 *    `--seccomp 3`: bwrap reads a filter only from a descriptor, and node-pty passes none
 *    but 0–2. The program travels as printf escapes in $1 and reaches bwrap through a pipe.
 *
 * bash because dash cannot name descriptors above 9. No startup file may run first:
 * `--posix` skips BASH_ENV, and `--norc` skips ~/.bashrc, which bash otherwise reads when
 * its stdin is a socket (it takes that for rshd; Node's stdio pipes are socketpairs).
 */
/** The descriptor the launch script gives bwrap's `--seccomp`. */
export const SECCOMP_FD = 3;

export const LAUNCH_SCRIPT = [
  'for fd in /proc/self/fd/*; do fd=${fd##*/}; if [ "$fd" -gt 2 ]; then eval "exec $fd>&-"; fi; done',
  // --posix did its job at startup (no BASH_ENV); older bash has no process substitution in it.
  'set +o posix',
  `if [ -n "$1" ]; then exec ${SECCOMP_FD}< <(printf '%b' "$1"); fi`,
  'shift',
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

/** Every byte as a `\xNN` escape, which bash's `printf %b` turns back into that byte (NUL included). */
function printfEscapes(bytes: Buffer): string {
  return [...bytes].map((b) => `\\x${b.toString(16).padStart(2, '0')}`).join('');
}

/**
 * `args` for spawning `bash`: the script, the seccomp program (empty for none), then bwrap
 * and its arguments, led by `--seccomp 3` when there is a program.
 */
export function launcherArgs(bwrap: string, bwrapArgs: string[], seccompFilter?: Buffer): string[] {
  const script = ['--norc', '--posix', '-c', LAUNCH_SCRIPT, 'celistra-bwrap'];
  if (!seccompFilter) return [...script, '', bwrap, ...bwrapArgs];
  return [...script, printfEscapes(seccompFilter), bwrap, '--seccomp', String(SECCOMP_FD), ...bwrapArgs];
}
