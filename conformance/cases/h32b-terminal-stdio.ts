import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Case, CaseContext, CustomResult } from '../case.js';
import { runOnTerminal, terminalChanges } from '../pty-terminal.js';

/**
 * The user's terminal on stdin, stdout or stderr of a NON-interactive run (`celistra run
 * ... -- cmd </dev/null` or `cmd > out` typed at a prompt, or stderr left on the screen).
 * The terminal is the user's own /dev/pts/N: a command holding it could fchmod it 0666
 * (any local user may then open it, read what is typed and write to it), futimens it, or
 * turn echo off and leave it so after the run. Celistra never hands a terminal to a fenced
 * command (docs/security.md, "Inherited stdio"): the command gets a pipe, and Celistra
 * relays the terminal.
 *
 * The host (conformance/pty-terminal.ts) gives `celistra run` a real pty as its
 * controlling terminal, on the descriptors each layout names, types a line into it,
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

/** The layouts: which of stdin, stdout, stderr is the terminal ("t"), /dev/null ("n") or a file ("f"). */
const LAYOUTS = [
  { layout: 'tff', what: 'stdin the terminal, stdout and stderr into files (`cmd > out 2> err` at a prompt)' },
  { layout: 'ntt', what: 'stdin /dev/null, stdout and stderr the terminal (`cmd </dev/null` at a prompt)' },
  { layout: 'fft', what: 'stdin a file, stdout a file, stderr the terminal (`cmd < in > out` at a prompt)' },
  // Interactive: the command gets Celistra's own pty, and the user's is restored after.
  { layout: 'ttt', what: 'all three the terminal (interactive: the command gets Celistra\'s own pty)' },
];

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
    const seen = runOnTerminal({ layout, files, typing: [{ afterMs: 500, text: `${TYPED}\n` }], argv, env: ctx.stage.env });
    const outputs = [seen.terminal, ...files.slice(1).map((f, i) => (layout[i + 1] === 'f' ? readFileSync(f, 'utf8') : ''))].join('\n');
    const said = outputs.replace(/\r/g, '').replace(/\s*\n\s*/g, ' | ').slice(0, 300);
    const evidence = terminalChanges(seen.before, seen.after);
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

const c: Case = {
  id: '32b',
  title: 'the user\'s terminal on stdin, stdout or stderr of a non-interactive run keeps its mode, owner, times and termios',
  section: 'H',
  expect: 'inherited-stdio',
  custom: check,
};
export default c;
