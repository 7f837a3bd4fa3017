import { childProcess } from './child-process-on-demand.js';
import { os } from './os-on-demand.js';
import { CelistraError } from './errors.js';
import type { LaunchPlan } from './backend.js';

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

/**
 * Run a plan with plain inherited stdio: output reaches our stdout byte for byte,
 * and signals sent to Celistra are passed on to the child.
 */
export interface LaunchHooks {
  /** Called once the child exists, so bookkeeping (the audit log) overlaps its run. */
  onSpawn?: (pid: number) => void;
}

export function runPiped(plan: LaunchPlan, hooks: LaunchHooks = {}): Promise<ExitResult> {
  return new Promise((resolveExit, reject) => {
    const child = childProcess().spawn(plan.file, plan.args, { env: plan.env, cwd: plan.cwd, stdio: 'inherit' });
    child.once('spawn', () => hooks.onSpawn?.(child.pid!));
    const forward = (sig: NodeJS.Signals) => () => {
      child.kill(sig);
    };
    const handlers = FORWARDED.map((sig) => [sig, forward(sig)] as const);
    for (const [sig, h] of handlers) process.on(sig, h);
    const cleanup = () => {
      for (const [sig, h] of handlers) process.off(sig, h);
    };
    child.once('error', (err: NodeJS.ErrnoException) => {
      cleanup();
      reject(new CelistraError('E_SPAWN', `could not start ${plan.file}: ${err.message}`));
    });
    child.once('exit', (code, signal) => {
      cleanup();
      resolveExit({ status: statusFrom(code, signal), code, signal });
    });
  });
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
      output.dispose();
      for (const [sig, h] of handlers) process.off(sig, h);
      stdout.off('resize', onResize);
      stdin.off('data', onInput);
      stdin.setRawMode?.(false);
      stdin.pause();
      const sigName = signal ? (Object.entries(os().constants.signals).find(([, n]) => n === signal)?.[0] as NodeJS.Signals) : null;
      resolveExit({ status: statusFrom(sigName ? null : exitCode, sigName ?? null), code: exitCode, signal: sigName ?? null });
    });
  });
}
