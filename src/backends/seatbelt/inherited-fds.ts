/**
 * sandbox-exec passes every file descriptor it inherits to the command, and Celistra may
 * itself have inherited some without close-on-exec: a writable one pointing outside the
 * workspace would be a hole in the fence. The command is therefore started through
 * macOS's /bin/bash (always present), inside the sandbox, which closes every descriptor
 * above 2 (listed in /dev/fd) and then execs the command with its argv unchanged.
 * No startup file may run first: `--posix` skips BASH_ENV, and `--norc` skips ~/.bashrc,
 * which bash otherwise reads when its stdin is a socket (it takes that for rshd).
 */
const CLOSE_AND_EXEC = 'for fd in /dev/fd/*; do fd=${fd##*/}; if [ "$fd" -gt 2 ]; then eval "exec $fd>&-"; fi; done; exec "$@"';

export const MACOS_BASH = '/bin/bash';

/** The command, prefixed so that it starts with only stdin, stdout and stderr open. */
export function withInheritedFdsClosed(argv: string[]): string[] {
  return [MACOS_BASH, '--norc', '--posix', '-c', CLOSE_AND_EXEC, 'celistra-close-fds', ...argv];
}
