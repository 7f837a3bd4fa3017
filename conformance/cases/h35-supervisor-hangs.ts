import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Case, CaseContext, CustomResult, Expectation } from '../case.js';
import { descendants, processesWithEnv } from '../host-proc.js';

/**
 * Nothing the command does may leave `celistra run` waiting after the command is gone:
 * every attempt below ends its own process at once (or, stopping itself, is sent SIGTERM
 * by the host as a user would), and the host gives the run a bounded time to return and
 * to close its output. A run still there after that is the escape; the host then kills
 * what is left, so a failing backend cannot hang the suite.
 */

const RETURN_WITHIN_MS = 15_000;
/** For the attempt that stops itself: when the host sends SIGTERM, as a user would. */
const TERM_AFTER_MS = 2_000;

const ATTEMPT = String.raw`
import ctypes, os, signal, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.ptrace.restype = ctypes.c_long
mode = sys.argv[1]
def report(what, ok):
    print('%s: %s' % (what, 'DONE' if ok else 'refused (errno %d)' % ctypes.get_errno()), flush=True)
if mode == 'ptrace-attach':
    report('PTRACE_ATTACH pid 1', libc.ptrace(16, 1, 0, 0) == 0)
elif mode == 'ptrace-seize-interrupt':
    ok = libc.ptrace(0x4206, 1, 0, 0) == 0
    report('PTRACE_SEIZE + PTRACE_INTERRUPT pid 1', ok and libc.ptrace(0x4207, 1, 0, 0) == 0)
elif mode == 'sigstop-init':
    try:
        os.kill(1, signal.SIGSTOP); print('SIGSTOP sent to pid 1', flush=True)
    except OSError as e:
        print('SIGSTOP refused: %s' % e, flush=True)
elif mode == 'init-memory':
    # Make pid 1 spin where it will resume: a jump to itself at its user-space pc.
    loop = {'x86_64': b'\xeb\xfe', 'aarch64': (0x14000000).to_bytes(4, 'little')}[os.uname().machine]
    try:
        pc = int(open('/proc/1/syscall').read().split()[-1], 16)
        fd = os.open('/proc/1/mem', os.O_RDWR)
        os.pwrite(fd, loop, pc); print('wrote a loop into pid 1 at %x' % pc, flush=True)
    except (OSError, ValueError, IndexError) as e:
        print('/proc/1/mem refused: %s' % e, flush=True)
elif mode == 'stop-self':
    print('stopping', flush=True)
    os.kill(os.getpid(), signal.SIGSTOP)
elif mode == 'hold-output':
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            import time; time.sleep(600)
        os._exit(0)
    print('left a child holding stdout and stderr', flush=True)
`;

interface HangAttempt {
  mode: string;
  name: string;
  expect?: Expectation;
  /** The host signals the run after a while, as a user would (a command that stops itself never exits alone). */
  terminate?: boolean;
}

const ATTEMPTS: HangAttempt[] = [
  { mode: 'ptrace-attach', name: "ptrace-attach the sandbox's pid 1 and exit" },
  { mode: 'ptrace-seize-interrupt', name: "PTRACE_SEIZE + PTRACE_INTERRUPT the sandbox's pid 1 and exit" },
  { mode: 'sigstop-init', name: "SIGSTOP the sandbox's pid 1 and exit" },
  { mode: 'init-memory', name: "write a loop into the sandbox's pid 1 through /proc/1/mem and exit", expect: 'sandbox-init' },
  { mode: 'stop-self', name: 'stop itself (SIGSTOP); the user then sends SIGTERM', terminate: true },
  { mode: 'hold-output', name: 'exit, leaving a setsid child holding stdout and stderr' },
];

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function tryOne(ctx: CaseContext, script: string, a: HangAttempt): Promise<CustomResult> {
  const marker = `CELISTRA_CONF35=${randomBytes(6).toString('hex')}`;
  const [k, v] = marker.split('=') as [string, string];
  const child = spawn(process.execPath, [ctx.cli, 'run', '--backend', ctx.backend, '--workspace', ctx.stage.wtA, '--', 'python3', script, a.mode], {
    env: { ...ctx.stage.env, [k]: v },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let said = '';
  child.stdout.on('data', (d: Buffer) => (said += d.toString()));
  child.stderr.on('data', (d: Buffer) => (said += d.toString()));
  const started = Date.now();
  const closed = new Promise<void>((r) => child.on('close', () => r()));
  if (a.terminate) void sleep(TERM_AFTER_MS).then(() => child.kill('SIGTERM'));
  const returned = await Promise.race([closed.then(() => true), sleep(RETURN_WITHIN_MS).then(() => false)]);
  const took = Date.now() - started;
  const tail = said.trim().replace(/\s*\n\s*/g, ' | ').slice(0, 200);
  const expect = a.expect;
  if (!returned) {
    // Clean up what the failing backend left, so the suite goes on.
    for (const pid of [...descendants(child.pid!), child.pid!].reverse()) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
    await closed;
    return { name: a.name, expect, outcome: 'escaped', detail: `celistra run had not returned and closed its output after ${RETURN_WITHIN_MS / 1000} s (killed by the judge): ${tail}` };
  }
  await sleep(200);
  const left = processesWithEnv(marker);
  if (left.length) {
    for (const pid of left) process.kill(pid, 'SIGKILL');
    return { name: a.name, expect, outcome: 'escaped', detail: `the run returned, but ${left.length} of its processes were still alive: ${tail}` };
  }
  return { name: a.name, expect, outcome: 'held', detail: `returned in ${took} ms (${a.terminate ? 'after SIGTERM' : `exit ${child.exitCode}`}): ${tail}` };
}

async function check(ctx: CaseContext): Promise<CustomResult[]> {
  if (ctx.backend === 'none') {
    // Unfenced, pid 1 is the host's own init: stopping it would stop the machine.
    return ATTEMPTS.map((a) => ({ name: a.name, expect: a.expect, outcome: 'n/a', detail: "not attempted without a sandbox: pid 1 would be the host's init" }));
  }
  const script = join(ctx.stage.wtA, 'conf-35-attempt.py');
  writeFileSync(script, ATTEMPT);
  const results: CustomResult[] = [];
  for (const a of ATTEMPTS) results.push(await tryOne(ctx, script, a));
  return results;
}

const c: Case = {
  id: '35',
  title: 'nothing the command does hangs the supervisor (ptrace or stop of the init, stopping itself, holding the output)',
  section: 'H',
  expect: 'supervisor',
  custom: check,
};
export default c;
