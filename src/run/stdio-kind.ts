import { fstatSync, readlinkSync } from 'node:fs';
import { CelistraError } from '../policy/errors.js';
import { isTerminal } from './is-terminal.js';

/**
 * What one of the caller's stdin, stdout or stderr is, as far as the fence cares
 * (docs/security.md, "Inherited stdio"). An anonymous pipe or a socket is handed to the
 * fenced command as it is: changing its mode or times touches nothing on disk. Anything
 * else the caller redirected from or to (a regular file, a named FIFO, a device such as
 * /dev/null, a directory) is the caller's own open file on a host mount, where fchmod,
 * fchown, futimens, fsetxattr and ftruncate reach past the fence; the command gets a pipe
 * instead and Celistra relays (run/stdio-relay.ts). So does the user's terminal: it is
 * their own /dev/pts/N, which a command holding it could make 0666, set the times of,
 * or leave with echo off after the run (conformance case 32b). A terminal is never handed
 * to a fenced command; an interactive run gets Celistra's own pty (run/launch.ts).
 */
export type StdioRoute = 'inherit' | 'relay' | 'empty';

export const STDIO_NAMES = ['stdin', 'stdout', 'stderr'] as const;

/**
 * How `celistra run` passes on each of its descriptors 0, 1 and 2. `empty` (stdin only):
 * a pipe already at end of file, which needs no relay.
 */
export interface StdioRoutes {
  routes: [StdioRoute, StdioRoute, StdioRoute];
  /** stdout and stderr are the same file: one pipe carries both, so their order is kept. */
  sharedOutput: boolean;
  /** Which of the relayed descriptors is a terminal (stdin's is read by run/terminal-stdin.ts). */
  terminals?: [boolean, boolean, boolean];
}

/**
 * Linux only: the magic link names anonymous pipes and sockets (`pipe:[N]`, `socket:[N]`),
 * which fstat alone cannot tell from a named FIFO or a socket file. Anything that cannot
 * be classified refuses the run: handing over something unknown is what the relay exists
 * to avoid.
 */
export function stdioRoute(fd: number): StdioRoute {
  let link: string;
  try {
    link = readlinkSync(`/proc/self/fd/${fd}`);
  } catch (e) {
    // A closed descriptor: the command inherits nothing there.
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'EBADF') return 'inherit';
    throw refused(fd, `cannot read /proc/self/fd/${fd}: ${(e as Error).message}`);
  }
  if (link.startsWith('pipe:[') || link.startsWith('socket:[')) return 'inherit';
  if (!link.startsWith('/')) throw refused(fd, `it is ${link}, which Celistra does not know how to pass on safely`);
  const st = fstatSync(fd);
  // Before the test for a device out of reach: a terminal another user owns (root's
  // console, su into another account) is still one the command could change termios of.
  if (st.isCharacterDevice() && isTerminal(fd)) return 'relay';
  if (st.isCharacterDevice() && deviceOutOfReach(st.uid)) return 'inherit';
  // stdin from /dev/null, as root: an empty pipe reads the same, and needs no relay.
  if (fd === 0 && st.isCharacterDevice() && st.rdev === DEV_NULL) return 'empty';
  if (st.isFile() || st.isFIFO() || st.isCharacterDevice() || st.isBlockDevice() || st.isDirectory()) return 'relay';
  throw refused(fd, `${link} is of a kind Celistra does not know how to pass on safely`);
}

/**
 * A character device another user owns (/dev/null, /dev/zero, /dev/urandom are root's),
 * held by an unprivileged caller: the kernel already refuses the command everything the
 * relay exists to stop. fchmod, fchown and futimens to a chosen time need the owner or a
 * capability in the host's user namespace (the command has neither), user xattrs do not
 * exist on devices, and a device has no contents to truncate. So it is passed on as it
 * is, and a run with stdin from /dev/null (CI, `spawn` with 'ignore') keeps the exec
 * hand-over. For root, who owns them, they are relayed: `chmod 000 /dev/null` by a root
 * command through its stdin would reach the host.
 */
/** Linux's /dev/null: major 1, minor 3. */
const DEV_NULL = (1 << 8) | 3;

function deviceOutOfReach(owner: number): boolean {
  const euid = process.geteuid?.() ?? 0;
  return euid !== 0 && owner !== euid;
}

function refused(fd: number, why: string): CelistraError {
  const name = STDIO_NAMES[fd] ?? `descriptor ${fd}`;
  return new CelistraError('E_SPAWN', `refusing to hand the fenced command its ${name}: ${why}`, `redirect ${name} from or to a file, a pipe or a terminal`);
}

/** The routes for this process's own stdio. */
export function stdioRoutes(): StdioRoutes {
  const routes = [stdioRoute(0), stdioRoute(1), stdioRoute(2)] as StdioRoutes['routes'];
  const terminals = [0, 1, 2].map((fd) => routes[fd] === 'relay' && isTerminal(fd)) as [boolean, boolean, boolean];
  return { routes, sharedOutput: routes[1] === 'relay' && routes[2] === 'relay' && sameFile(1, 2), terminals };
}

function sameFile(a: number, b: number): boolean {
  const x = fstatSync(a);
  const y = fstatSync(b);
  return x.dev === y.dev && x.ino === y.ino;
}

export function needsRelay(r: StdioRoutes): boolean {
  return r.routes.includes('relay');
}
