import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { createInterface, type Interface } from 'node:readline';
import type { AttemptOutput, Launch, Via } from './case.js';
import type { Stage } from './stage.js';
import { descendants, findDescendant } from './host-proc.js';
import { undoOnInterrupt } from './interrupt-cleanup.js';

/**
 * The fd number the judge leaks into `celistra run`. High on purpose: Node reuses low
 * descriptors at startup, so a low one would vanish by accident rather than by design.
 */
export const LEAKED_FD = 40;

/** An argument that names the driver's process in the host's process table. */
const DRIVER_MARK = 'celistra-conformance-driver';

export interface SessionTarget {
  cli: string;
  driver: string;
  backend: string;
}

/** The `celistra run` arguments for one fenced launch in `wt-a` (or another workspace). */
export function runArgs(t: SessionTarget, workspace: string, launch: Launch): string[] {
  const args = [t.cli, 'run', '--backend', t.backend, '--workspace', workspace];
  if (launch.net) args.push('--net', launch.net);
  if (launch.preset) args.push('--preset', launch.preset);
  return args;
}

/**
 * One sandbox launch of the attempt driver through the real CLI:
 * `node bin/celistra.js run --backend B --workspace wt-a -- node driver.js`.
 * Attempts are sent one at a time so the host can snapshot between them.
 */
export class FencedSession {
  private lines: Interface;
  private pending: ((line: string | undefined) => void)[] = [];
  private queued: string[] = [];
  private ended = false;
  stderr = '';
  /** The driver's pid as the host sees it (for /proc checks). */
  driverPid?: number;

  private constructor(readonly child: ChildProcess) {
    this.lines = createInterface({ input: child.stdout! });
    this.lines.on('line', (l) => {
      const waiter = this.pending.shift();
      if (waiter) waiter(l);
      else this.queued.push(l);
    });
    this.lines.on('close', () => {
      this.ended = true;
      for (const w of this.pending.splice(0)) w(undefined);
    });
    child.stderr!.on('data', (d: Buffer) => {
      this.stderr += d.toString();
    });
  }

  private nextLine(timeoutMs: number): Promise<string | undefined> {
    const q = this.queued.shift();
    if (q !== undefined) return Promise.resolve(q);
    if (this.ended) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pending = this.pending.filter((w) => w !== done);
        resolve(undefined);
      }, timeoutMs);
      const done = (l: string | undefined) => {
        clearTimeout(timer);
        resolve(l);
      };
      this.pending.push(done);
    });
  }

  /** Start the driver fenced; undefined (with the reason) when `celistra run` refused or died. */
  static async open(t: SessionTarget, stage: Stage, launch: Launch, extraEnv: Record<string, string> = {}): Promise<FencedSession | { refused: string }> {
    // The driver's source goes on the command line, not its path: the checkout may sit
    // where the fence hides it (under a /tmp the backend replaces with a private one).
    const source = readFileSync(t.driver, 'utf8');
    const args = [...runArgs(t, stage.wtA, launch), '--', process.execPath, '--input-type=module', '-e', source, DRIVER_MARK, ...(launch.names ?? [])];
    // `celistra run` is handed one extra open fd, writable, outside every fence (as a
    // careless parent shell would): the agent must not inherit it (case 13).
    const leaked = openSync(stage.leakedFdFile, 'a');
    const stdio: StdioOptions = ['pipe', 'pipe', 'pipe', ...Array<'ignore'>(LEAKED_FD - 3).fill('ignore'), leaked];
    // Own process group: a `kill(0, ...)` from inside can never reach the judge.
    const child = spawn(process.execPath, args, { env: { ...stage.env, ...extraEnv }, stdio, detached: true });
    closeSync(leaked);
    const s = new FencedSession(child);
    s.forget = undoOnInterrupt(() => s.kill());
    const first = await s.nextLine(30_000);
    if (first === undefined || !first.includes('"ready"')) {
      await s.close();
      return { refused: `celistra run did not start the driver (${first ?? 'no output'}): ${s.stderr.trim().split('\n').slice(-3).join(' | ')}` };
    }
    if (child.pid) s.driverPid = findDescendant(child.pid, DRIVER_MARK);
    return s;
  }

  async attempt(via: Via, script: string, timeoutMs: number): Promise<AttemptOutput> {
    if (this.ended) return { status: null, stdout: '', stderr: '', timedOut: false, lost: `the fenced driver is gone: ${this.stderr.trim().slice(-300)}` };
    this.child.stdin!.write(`${JSON.stringify({ via, script, timeoutMs })}\n`);
    const line = await this.nextLine(timeoutMs + 10_000);
    if (line === undefined) return { status: null, stdout: '', stderr: '', timedOut: true, lost: `no answer from the fenced driver: ${this.stderr.trim().slice(-300)}` };
    return JSON.parse(line) as AttemptOutput;
  }

  private forget = () => undefined as void;

  /** Kill the launch and everything under it, whatever session the backend gave it. */
  kill(): void {
    const pid = this.child.pid;
    if (!pid) return;
    for (const p of [...descendants(pid), pid]) {
      try {
        process.kill(p, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }

  /** End the launch and wait for `celistra run` to exit; returns its status. */
  async close(): Promise<number | null> {
    this.forget();
    const child = this.child;
    if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
    child.stdin!.end();
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.kill(), 10_000);
      child.once('exit', (code) => {
        clearTimeout(timer);
        resolve(code);
      });
    });
  }
}
