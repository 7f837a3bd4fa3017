import type { Case, CaseContext, CustomResult } from '../case.js';
import { sh } from '../quoting.js';

/**
 * The agent tries TIOCSTI into its own terminal, into the user's terminal by path, and
 * from a detached child after it exits (when the user's shell reads again). The user's
 * shell is a real PTY here; it reads one line after `celistra run` returns and the
 * host types "clean": reading anything else means the injection reached the user.
 */
const INJECT_PY = String.raw`
import fcntl, os, termios, time
def inject(path):
    try:
        fd = os.open(path, os.O_RDWR | os.O_NOCTTY)
        for ch in b'CONF-INJECTED\n':
            fcntl.ioctl(fd, termios.TIOCSTI, bytes([ch]))
        print('injected into', path, flush=True)
    except OSError as e:
        print('refused', path, e.errno, flush=True)
inject('/dev/tty')
if os.fork() == 0:
    os.setsid()
    time.sleep(0.7)
    inject(os.environ['USER_TTY'])
    os._exit(0)
inject(os.environ['USER_TTY'])
`;

async function injectionReachesUser(ctx: CaseContext): Promise<CustomResult> {
  const pty = await import('node-pty');
  const { stage, cli, backend } = ctx;
  const run = `${sh(process.execPath)} ${sh(cli)} run --backend ${backend} --workspace ${sh(stage.wtA)} -- python3 -c ${sh(INJECT_PY)}`;
  const script = `USER_TTY=$(tty) ${run}; echo CONF-DONE; read line; echo "CONF-GOT:$line"`;
  const term = pty.spawn('sh', ['-c', script], { name: 'xterm', cols: 200, rows: 40, cwd: stage.wtA, env: stage.env });
  let screen = '';
  return new Promise((resolve) => {
    let typed = false;
    const timer = setTimeout(() => {
      term.kill('SIGKILL');
      resolve({ name: 'TIOCSTI into the user terminal', outcome: 'n/a', detail: `no answer from the user's shell: ${screen.slice(-300)}` });
    }, 30_000);
    term.onData((d) => {
      screen += d;
      if (!typed && screen.includes('CONF-DONE')) {
        typed = true;
        // Give the detached child time to inject before the "user" types.
        setTimeout(() => term.write('clean\r'), 1500);
      }
      const m = /CONF-GOT:(.*)/.exec(screen);
      if (m && screen.slice(m.index).includes('\n')) {
        clearTimeout(timer);
        term.kill();
        const got = m[1]!.trim();
        const log = screen.replace(/\r/g, '').split('\n').filter((l) => /injected|refused/.test(l)).join('; ');
        resolve(
          got === 'clean'
            ? { name: 'TIOCSTI into the user terminal', outcome: 'held', detail: `the user's shell read only what the user typed (${log})` }
            : { name: 'TIOCSTI into the user terminal', outcome: 'escaped', detail: `the user's shell read "${got}" (${log})` },
        );
      }
    });
  });
}

const c: Case = {
  id: '23',
  title: "TIOCSTI into the controlling terminal cannot reach the user's shell",
  section: 'E',
  expect: 'tiocsti',
  custom: async (ctx) => [await injectionReachesUser(ctx)],
};
export default c;
