import { childProcess } from '../lazy/child-process.js';
import { os } from '../lazy/os.js';
import { CelistraError } from '../policy/errors.js';
import type { LaunchPlan } from '../backends/backend.js';
import type { StdioRelay } from './stdio-relay.js';

export interface ExitResult {
  /** The exit status to report: the child's code, or 128+n for signal n. */
  status: number;
  code: number | null;
  signal: NodeJS.Signals | null;
}

const FORWARDED: NodeJS.Signals[] = ['SIGTERM', 'SIGHUP', 'SIGINT', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'];

export function statusFrom(code: number | null, signal: NodeJS.Signals | null): number {
  if (signal) return 128 + (os().constants.signals[signal] ?? 0);
  return code ?? 0;
}

export interface LaunchHooks {
  /** Called once the child exists, so bookkeeping (the audit log) overlaps its run. */
  onSpawn?: (pid: number) => void;
  /**
   * Called as soon as the child was reaped, before the relay drains what is left of its
   * output: a process the command left behind can hold the relay's pipe and keep writing,
   * and must be ended here (run/orphans.ts), not after the relay (which would wait on it).
   */
  onReaped?: () => void;
}

/**
 * Run a plan with our own stdio: inherited as it is, so output reaches our stdout byte for
 * byte, or through `relay` where a descriptor is a file the command must not hold
 * (run/stdio-relay.ts). Signals sent to Celistra are passed on to the child. Resolves
 * once the child exited and the relay copied out its output.
 */
export function runPiped(plan: LaunchPlan, hooks: LaunchHooks = {}, relay?: StdioRelay): Promise<ExitResult> {
  return new Promise((resolveExit, reject) => {
    // Listening before the spawn: a signal that arrives while the command already runs
    // but before this code went on (a loaded machine; the helper starts in ~2 ms) would
    // otherwise end this process at its default action, unrecorded, and the command with
    // it. Node runs the handlers from its loop, so they find the child.
    let child: import('node:child_process').ChildProcess | undefined;
    const handlers = FORWARDED.map((sig) => [sig, () => void child?.kill(sig)] as const);
    for (const [sig, h] of handlers) process.on(sig, h);
    const cleanup = () => {
      for (const [sig, h] of handlers) process.off(sig, h);
      ignoreLateHangup();
    };
    try {
      child = childProcess().spawn(plan.file, plan.args, { env: plan.env, cwd: plan.cwd, stdio: relay?.stdio ?? 'inherit' });
    } catch (e) {
      cleanup();
      relay?.abandon();
      throw e;
    }
    // The fork is done when spawn returns: the command holds its ends of the pipes.
    if (child.pid !== undefined) relay?.start(child);
    child.once('spawn', () => hooks.onSpawn?.(child.pid!));
    child.once('error', (err: NodeJS.ErrnoException) => {
      cleanup();
      if (child?.pid === undefined) relay?.abandon();
      reject(new CelistraError('E_SPAWN', `could not start ${plan.file}: ${err.message}`));
    });
    child.once('exit', (code, signal) => {
      cleanup();
      hooks.onReaped?.();
      const result = { status: statusFrom(code, signal), code, signal };
      if (relay) void relay.finish().then(() => resolveExit(result));
      else resolveExit(result);
    });
  });
}

const ignoreHangup = () => undefined;
/**
 * Once the command has ended there is nothing to pass a SIGHUP on to, and the run's last
 * steps remain (the exit's audit event, the worktree lease, the private tmp): a hangup
 * then (the terminal closing as the run ends, a second SIGHUP after the kernel's) must
 * not cut them short by Node's default of dying.
 */
function ignoreLateHangup(): void {
  if (!process.listeners('SIGHUP').includes(ignoreHangup)) process.on('SIGHUP', ignoreHangup);
}

/**
 * Run a plan in a PTY that Celistra owns, relaying the user's terminal in raw mode.
 * The child's controlling terminal is our PTY, never the user's, so TIOCSTI from the
 * agent can only inject into its own PTY.
 */
export async function runInTerminal(plan: LaunchPlan, hooks: LaunchHooks = {}): Promise<ExitResult> {
  const pty = await import('node-pty');
  const stdin = process.stdin;
  const stdout = process.stdout;
  let term: import('node-pty').IPty;
  try {
    term = pty.spawn(plan.file, plan.args, {
      name: plan.env.TERM || 'xterm-256color',
      cols: stdout.columns || 80,
      rows: stdout.rows || 24,
      cwd: plan.cwd,
      env: plan.env,
    });
  } catch (e) {
    throw new CelistraError('E_SPAWN', `could not start ${plan.file}: ${(e as Error).message}`);
  }
  hooks.onSpawn?.(term.pid);
  const onResize = () => term.resize(stdout.columns || 80, stdout.rows || 24);
  const onInput = (data: Buffer) => term.write(data.toString('binary'));
  stdout.on('resize', onResize);
  stdin.setRawMode?.(true);
  stdin.on('data', onInput);
  stdin.resume();
  const output = term.onData((d) => stdout.write(d));
  // In raw mode ^C arrives as a byte and reaches the child through the PTY; signals
  // sent to Celistra by other processes are passed on.
  const handlers = FORWARDED.map((sig) => [sig, () => term.kill(sig)] as const);
  for (const [sig, h] of handlers) process.on(sig, h);
  return new Promise((resolveExit) => {
    term.onExit(({ exitCode, signal }) => {
      hooks.onReaped?.();
      output.dispose();
      for (const [sig, h] of handlers) process.off(sig, h);
      ignoreLateHangup();
      stdout.off('resize', onResize);
      stdin.off('data', onInput);
      stdin.setRawMode?.(false);
      stdin.pause();
      const sigName = signal ? (Object.entries(os().constants.signals).find(([, n]) => n === signal)?.[0] as NodeJS.Signals) : null;
      resolveExit({ status: statusFrom(sigName ? null : exitCode, sigName ?? null), code: exitCode, signal: sigName ?? null });
    });
  });
}
