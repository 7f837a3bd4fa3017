import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Case, CaseContext, CustomResult } from '../case.js';

/**
 * The user's terminal on stdin, stdout or stderr of a NON-interactive run (`celistra run
 * ... -- cmd </dev/null` or `cmd > out` typed at a prompt, or stderr left on the screen).
 * The terminal is the user's own /dev/pts/N: a command holding it could fchmod it 0666
 * (any local user may then open it, read what is typed and write to it), futimens it, or
 * turn echo off and leave it so after the run. Celistra never hands a terminal to a fenced
 * command (docs/security.md, "Inherited stdio"): the command gets a pipe, and Celistra
 * relays the terminal.
 *
 * The host (a Python harness, for openpty and termios) gives `celistra run` a real pty as
 * its controlling terminal, on the descriptors each layout names, types a line into it,
 * and compares the terminal's mode, owner, ctime, times, xattrs and termios before and
 * after. The command reads the typed line, echoes it, then tries fchmod, fchown,
 * futimens, fsetxattr, ftruncate and tcsetattr (echo and canonical mode off) on 0, 1, 2.
 * It is FALSE-DENY if the typed line does not reach the command or its output does not
 * reach the terminal.
 */

const TYPED = 'typed-at-the-terminal-32b';

const ATTEMPT = String.raw`
import os, sys, termios
did = []
def t(name, fn):
    try:
        fn(); did.append(name)
    except (OSError, termios.error):
        pass
line = sys.stdin.readline().strip()
os.write(1, ('GOT-OUT:%s\n' % line).encode())
os.write(2, ('GOT-ERR:%s\n' % line).encode())
def quiet(fd):
    a = termios.tcgetattr(fd)
    a[3] &= ~(termios.ECHO | termios.ICANON)
    termios.tcsetattr(fd, termios.TCSANOW, a)
for fd in (0, 1, 2):
    t('fchmod %d' % fd, lambda: os.chmod(fd, 0o666))
    t('fchown %d to itself' % fd, lambda: os.chown(fd, os.getuid(), os.getgid()))
    t('futimens %d' % fd, lambda: os.utime(fd, (1, 1)))
    t('fsetxattr %d' % fd, lambda: os.setxattr(fd, 'user.celistra-conf32b', b'x'))
    t('ftruncate %d' % fd, lambda: os.ftruncate(fd, 0))
    t('tcsetattr %d' % fd, lambda: quiet(fd))
    t('isatty %d' % fd, lambda: None if os.isatty(fd) else (_ for _ in ()).throw(OSError()))
sys.stderr.write('DID: ' + ', '.join(did) + '\n')
`;

/**
 * Runs argv (celistra run ...) with a fresh pty as its controlling terminal on the
 * descriptors `layout` names ("t" terminal, "n" /dev/null, "f" a file), and reports what
 * the terminal looked like before and after, what came out of it, and the exit status.
 */
const HARNESS = String.raw`
import json, os, pty, select, subprocess, sys, termios, fcntl, time
layout, files, typed = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3]
argv = sys.argv[4:]
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
    fcntl.ioctl(0 if layout[0] == 't' else (1 if layout[1] == 't' else 2), termios.TIOCSCTTY, 0)
p = subprocess.Popen(argv, stdin=fds[0], stdout=fds[1], stderr=fds[2], start_new_session=True, preexec_fn=ctty)
out = b''
deadline = time.time() + 60
typed_at = time.time() + 0.5
sent = False
while time.time() < deadline:
    if not sent and time.time() >= typed_at:
        os.write(master, (typed + '\n').encode()); sent = True
    r, _, _ = select.select([master], [], [], 0.05)
    if r:
        try:
            out += os.read(master, 65536)
        except OSError:
            pass
    if p.poll() is not None and sent and not r:
        break
if p.poll() is None:
    p.kill(); p.wait()
after = look()
print(json.dumps({'status': p.returncode, 'before': before, 'after': after, 'terminal': out.decode('utf8', 'replace'), 'tty': path}))
`;

interface Look {
  mode: number;
  uid: number;
  gid: number;
  atime: number;
  mtime: number;
  ctime_ns: number;
  xattrs: unknown;
  termios: unknown;
}

interface Seen {
  status: number | null;
  before: Look;
  after: Look;
  terminal: string;
  tty: string;
}

/** The layouts: which of stdin, stdout, stderr is the terminal ("t"), /dev/null ("n") or a file ("f"). */
const LAYOUTS = [
  { layout: 'tff', what: 'stdin the terminal, stdout and stderr into files (`cmd > out 2> err` at a prompt)' },
  { layout: 'ntt', what: 'stdin /dev/null, stdout and stderr the terminal (`cmd </dev/null` at a prompt)' },
  { layout: 'fft', what: 'stdin a file, stdout a file, stderr the terminal (`cmd < in > out` at a prompt)' },
];

function changes(before: Look, after: Look): string[] {
  const evidence: string[] = [];
  if (after.mode !== before.mode) evidence.push(`the terminal's mode changed: ${before.mode.toString(8)} → ${after.mode.toString(8)}`);
  if (after.uid !== before.uid || after.gid !== before.gid) evidence.push(`the terminal's owner changed: ${before.uid}:${before.gid} → ${after.uid}:${after.gid}`);
  if (after.ctime_ns !== before.ctime_ns) evidence.push('the terminal\'s ctime changed (its mode, owner or times were set)');
  // Reading and writing a terminal moves its times to now; only a time set backwards is the attempt's.
  if (after.atime < before.atime || after.mtime < before.mtime) evidence.push(`the terminal's times were set back to ${after.atime}/${after.mtime}`);
  if (JSON.stringify(after.xattrs) !== JSON.stringify(before.xattrs)) evidence.push(`the terminal's xattrs changed: ${JSON.stringify(before.xattrs)} → ${JSON.stringify(after.xattrs)}`);
  if (JSON.stringify(after.termios) !== JSON.stringify(before.termios)) evidence.push(`the terminal's termios changed and stayed so after the run: ${JSON.stringify(before.termios).slice(0, 60)} → ${JSON.stringify(after.termios).slice(0, 60)}`);
  return evidence;
}

async function check(ctx: CaseContext): Promise<CustomResult[]> {
  const attempt = join(ctx.stage.wtA, 'conf-32b-attempt.py');
  writeFileSync(attempt, ATTEMPT);
  const results: CustomResult[] = [];
  for (const { layout, what } of LAYOUTS) {
    const name = `fchmod, fchown, futimens, fsetxattr, ftruncate, tcsetattr of the terminal: ${what}`;
    const files = [0, 1, 2].map((i) => join(ctx.stage.root, `conf-32b-${layout}-${i}`));
    writeFileSync(files[0]!, `${TYPED}-from-file\n`);
    writeFileSync(files[1]!, '');
    writeFileSync(files[2]!, '');
    const argv = [process.execPath, ctx.cli, 'run', '--backend', ctx.backend, '--workspace', ctx.stage.wtA, '--', 'python3', attempt];
    const r = spawnSync('python3', ['-c', HARNESS, layout, JSON.stringify(files), TYPED, ...argv], { env: ctx.stage.env, encoding: 'utf8', timeout: 90_000 });
    let seen: Seen;
    try {
      seen = JSON.parse(r.stdout) as Seen;
    } catch {
      // Never a quiet n/a: a harness that cannot run must not read as a case that held.
      throw new Error(`the pty harness failed for layout ${layout}: ${(r.stderr || r.error?.message || '').slice(0, 300)}`);
    }
    const outputs = [seen.terminal, ...files.slice(1).map((f, i) => (layout[i + 1] === 'f' ? readText(f) : ''))].join('\n');
    const said = outputs.replace(/\r/g, '').replace(/\s*\n\s*/g, ' | ').slice(0, 300);
    const evidence = changes(seen.before, seen.after);
    if (evidence.length) {
      results.push({ name, outcome: 'escaped', detail: `${seen.tty}: ${evidence.join('; ')} (${said})` });
      continue;
    }
    const expectLine = layout[0] === 't' ? TYPED : layout[0] === 'f' ? `${TYPED}-from-file` : '';
    if (seen.status !== 0 || !outputs.includes(`GOT-OUT:${expectLine}`) || !outputs.includes(`GOT-ERR:${expectLine}`)) {
      results.push({ name, expect: 'allow', outcome: 'denied', detail: `the command's stdin or output did not pass through (exit ${seen.status}): ${said}` });
      continue;
    }
    results.push({ name, outcome: 'held', detail: `${seen.tty} unchanged (mode, owner, ctime, times, xattrs, termios); ${said}` });
  }
  return results;
}

function readText(path: string): string {
  return readFileSync(path, 'utf8');
}

const c: Case = {
  id: '32b',
  title: 'the user\'s terminal on stdin, stdout or stderr of a non-interactive run keeps its mode, owner, times and termios',
  section: 'H',
  expect: 'inherited-stdio',
  custom: check,
};
export default c;
