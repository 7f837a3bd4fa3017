import { spawnSync } from 'node:child_process';

/**
 * A command run with a real terminal (a fresh pty, made by a Python harness: Node has no
 * openpty) as its controlling terminal on the descriptors a layout names, as a user runs
 * it at a prompt. Used by conformance case 32b, test/sandbox/terminal-stdio.test.ts and
 * bench/terminal-relay.ts.
 */

/** What the terminal looked like (stat, xattrs, termios as Python's repr). */
export interface TerminalLook {
  mode: number;
  uid: number;
  gid: number;
  atime: number;
  mtime: number;
  ctime_ns: number;
  xattrs: unknown;
  termios: string;
}

export interface TerminalRun {
  status: number | null;
  /** The signal that ended it, as Python reports it (a negative returncode), else null. */
  signal: number | null;
  before: TerminalLook;
  after: TerminalLook;
  /** Everything that came out of the terminal (its echo of what was typed included). */
  terminal: string;
  /** What was typed but still unread in the terminal once the run returned. */
  leftover: string;
  /** The terminal's path (/dev/pts/N). */
  tty: string;
  /** Wall time of the run, from its start to its exit, in ms. */
  ms: number;
}

export interface TerminalRunOptions {
  /** stdin, stdout, stderr: "t" the terminal, "n" /dev/null, "f" the file of the same index in `files`. */
  layout: string;
  files?: string[];
  /** Typed into the terminal, each `afterMs` after the start. */
  typing?: { afterMs: number; text: string }[];
  argv: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  timeoutMs?: number;
}

const HARNESS = String.raw`
import json, os, pty, select, subprocess, sys, termios, fcntl, time
opts = json.loads(sys.argv[1])
layout, files, typing, argv = opts['layout'], opts['files'], opts['typing'], opts['argv']
master, slave = pty.openpty()
path = os.ttyname(slave)
os.utime(path, (1000000000, 1000000000))
def look():
    st = os.stat(path)
    try:
        xs = sorted(os.listxattr(path))
    except OSError as e:
        xs = 'listxattr: %s' % e.strerror
    return {'mode': st.st_mode, 'uid': st.st_uid, 'gid': st.st_gid, 'atime': st.st_atime, 'mtime': st.st_mtime,
            'ctime_ns': st.st_ctime_ns, 'xattrs': xs, 'termios': repr(termios.tcgetattr(slave))}
before = look()
fds = []
for i, k in enumerate(layout):
    if k == 't': fds.append(slave)
    elif k == 'n': fds.append(os.open('/dev/null', os.O_RDWR))
    else: fds.append(os.open(files[i], os.O_RDONLY if i == 0 else os.O_WRONLY | os.O_APPEND))
def ctty():
    fcntl.ioctl(layout.index('t'), termios.TIOCSCTTY, 0)
start = time.time()
p = subprocess.Popen(argv, stdin=fds[0], stdout=fds[1], stderr=fds[2], start_new_session=True, preexec_fn=ctty)
out = b''
deadline = start + opts['timeout'] / 1000
pending = sorted(typing, key=lambda t: t['afterMs'])
ended = None
while time.time() < deadline:
    now = time.time()
    while pending and now - start >= pending[0]['afterMs'] / 1000:
        os.write(master, pending.pop(0)['text'].encode())
    r, _, _ = select.select([master], [], [], 0.002)
    if r:
        try:
            out += os.read(master, 65536)
        except OSError:
            pass
    if ended is None and p.poll() is not None:
        ended = time.time()
    if ended is not None and not pending and not r:
        break
if p.poll() is None:
    p.kill(); p.wait(); ended = time.time()
after = look()
os.set_blocking(slave, False)
left = b''
while True:
    try:
        chunk = os.read(slave, 65536)
    except OSError:
        break
    if not chunk: break
    left += chunk
rc = p.returncode
print(json.dumps({'status': rc if rc >= 0 else None, 'signal': -rc if rc < 0 else None, 'before': before, 'after': after,
                  'terminal': out.decode('utf8', 'replace'), 'leftover': left.decode('utf8', 'replace'), 'tty': path,
                  'ms': (ended - start) * 1000}))
`;

/** Runs `argv` on a fresh terminal; throws when the harness itself cannot run (never a quiet pass). */
export function runOnTerminal(o: TerminalRunOptions): TerminalRun {
  if (!o.layout.includes('t')) throw new Error('runOnTerminal: the layout names no terminal');
  const timeout = o.timeoutMs ?? 60_000;
  const opts = { layout: o.layout, files: o.files ?? [], typing: o.typing ?? [], argv: o.argv, timeout };
  const r = spawnSync('python3', ['-c', HARNESS, JSON.stringify(opts)], { env: o.env, cwd: o.cwd, encoding: 'utf8', timeout: timeout + 30_000, maxBuffer: 512 * 1024 * 1024 });
  try {
    return JSON.parse(r.stdout) as TerminalRun;
  } catch {
    throw new Error(`the pty harness failed for layout ${o.layout}: ${(r.stderr || r.error?.message || '').slice(0, 300)}`);
  }
}

/** How the terminal changed between two looks: empty when it did not (its times may only move forward). */
export function terminalChanges(before: TerminalLook, after: TerminalLook): string[] {
  const evidence: string[] = [];
  if (after.mode !== before.mode) evidence.push(`the terminal's mode changed: ${before.mode.toString(8)} → ${after.mode.toString(8)}`);
  if (after.uid !== before.uid || after.gid !== before.gid) evidence.push(`the terminal's owner changed: ${before.uid}:${before.gid} → ${after.uid}:${after.gid}`);
  if (after.ctime_ns !== before.ctime_ns) evidence.push("the terminal's ctime changed (its mode, owner or times were set)");
  // Reading and writing a terminal moves its times to now; only a time set backwards is an attempt's.
  if (after.atime < before.atime || after.mtime < before.mtime) evidence.push(`the terminal's times were set back to ${after.atime}/${after.mtime}`);
  if (JSON.stringify(after.xattrs) !== JSON.stringify(before.xattrs)) evidence.push(`the terminal's xattrs changed: ${JSON.stringify(before.xattrs)} → ${JSON.stringify(after.xattrs)}`);
  if (after.termios !== before.termios) evidence.push(`the terminal's termios changed and stayed so after the run: ${before.termios.slice(0, 60)} → ${after.termios.slice(0, 60)}`);
  return evidence;
}
