/**
 * Real daemons for tests: each test gets its own HOME and XDG dirs in a temp dir, a
 * daemon process started from the built CLI, and a cleanup that kills only the
 * processes it started (the daemon, and holders found by their config path).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import xtermHeadless from '@xterm/headless';
import type WebSocket from 'ws';
import type { AgentSummary } from '../src/daemon/agent-spec.js';
import { celistraPaths, type CelistraPaths } from '../src/policy/paths.js';
import { DaemonClient } from '../src/daemon/client.js';
import { scratchDir } from './support/scratch-dir.js';

export const CLI_MAIN = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));

export interface Sandbox {
  root: string;
  workspace: string;
  env: NodeJS.ProcessEnv;
  paths: CelistraPaths;
  client: DaemonClient;
}

export function makeSandbox(): Sandbox {
  const root = scratchDir('celistra-daemon-test-');
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: join(root, 'home'),
    XDG_STATE_HOME: join(root, 'state'),
    XDG_CONFIG_HOME: join(root, 'config'),
    XDG_RUNTIME_DIR: join(root, 'run'),
    TERM: 'xterm-256color',
  };
  for (const d of [env.HOME!, env.XDG_RUNTIME_DIR!, join(root, 'ws')]) mkdirSync(d, { recursive: true, mode: 0o700 });
  const paths = celistraPaths(env);
  return { root, workspace: join(root, 'ws'), env, paths, client: new DaemonClient(paths) };
}

export interface DaemonProcess {
  proc: ChildProcess;
  pid: number;
  stderr: () => string;
  exited: Promise<number | null>;
}

/**
 * Sandboxes whose daemon this process started. Whatever ends this process (a failed
 * assertion outside a finally, an exception in a bench, Ctrl-C), their daemons and
 * holders go with it: a bench once left a daemon running (issue 19, item 7).
 */
const started = new Map<Sandbox, ChildProcess[]>();
let exitGuard = false;

function killStartedSync(): void {
  for (const [sb, procs] of started) {
    for (const proc of procs) if (proc.exitCode === null) proc.kill('SIGKILL');
    for (const pid of sandboxPids(sb)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  started.clear();
}

function guardExit(): void {
  if (exitGuard) return;
  exitGuard = true;
  process.on('exit', killStartedSync);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      killStartedSync();
      process.exit(128 + (sig === 'SIGINT' ? 2 : sig === 'SIGTERM' ? 15 : 1));
    });
  }
}

/** Let the exit guard end this daemon too (for daemons a bench starts by itself). */
export function trackDaemon(sb: Sandbox, proc: ChildProcess): void {
  guardExit();
  started.set(sb, [...(started.get(sb) ?? []), proc]);
}

/** `cliMain`: another built tree's CLI (a bench's baseline); this tree's by default. */
export async function startDaemonProcess(sb: Sandbox, extraArgs: string[] = [], cliMain = CLI_MAIN): Promise<DaemonProcess> {
  const proc = spawn(process.execPath, [cliMain, 'daemon', 'run', ...extraArgs], { env: sb.env, stdio: ['ignore', 'ignore', 'pipe'] });
  trackDaemon(sb, proc);
  let err = '';
  proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  // Generous: on a loaded 2-core machine a daemon reconnecting to busy holders can take a while.
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`daemon exited with ${proc.exitCode}: ${err}`);
    try {
      const s = await sb.client.call<{ pid: number }>('GET', '/v1/status');
      return { proc, pid: s.pid, stderr: () => err, exited };
    } catch {
      if (Date.now() > deadline) throw new Error(`daemon did not come up: ${err}`);
      await sleep(50);
    }
  }
}

/** Every process whose command line names this sandbox (the daemon and its holders). */
export function sandboxPids(sb: Sandbox): number[] {
  const ps = spawnSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' }).stdout;
  return ps
    .split('\n')
    .filter((l) => l.includes(sb.root) && !l.includes(' ps '))
    .map((l) => Number.parseInt(l.trim(), 10))
    .filter((p) => Number.isInteger(p) && p !== process.pid);
}

export async function cleanup(sb: Sandbox, daemon?: DaemonProcess): Promise<void> {
  if (daemon && daemon.proc.exitCode === null) {
    daemon.proc.kill('SIGKILL');
    await daemon.exited;
  }
  for (const pid of sandboxPids(sb)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  started.delete(sb);
  rmSync(sb.root, { recursive: true, force: true });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

export async function agent(sb: Sandbox, name: string): Promise<AgentSummary> {
  return (await sb.client.call<{ agent: AgentSummary }>('GET', `/v1/agents/${name}`)).agent;
}

export async function spawnAgent(sb: Sandbox, name: string, argv: string[], extra: Record<string, unknown> = {}): Promise<AgentSummary> {
  const r = await sb.client.call<{ agent: AgentSummary }>('POST', '/v1/agents', { name, argv, workspace: sb.workspace, backend: 'auto', cols: 80, rows: 24, ...extra });
  return r.agent;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The messages of an attach socket, split into the first (JSON) message and later output. */
export interface AttachRecorder {
  first: Promise<{ type: string; data: string; cols: number; rows: number; reason: string }>;
  /** All output bytes, concatenated (keep it for small outputs). */
  output: () => Buffer;
  /** Output bytes received so far. */
  outputBytes: () => number;
  /** The last 64 KiB of output, for cheap "has it printed X yet" checks on floods. */
  outputTail: () => string;
  /** JSON (text) messages after the first one. */
  controls: Array<Record<string, unknown>>;
  messages: Array<{ binary: boolean; data: Buffer }>;
  closed: Promise<{ code: number; reason: string }>;
}

export function record(ws: WebSocket): AttachRecorder {
  const messages: Array<{ binary: boolean; data: Buffer }> = [];
  let resolveFirst!: AttachRecorder['first'] extends Promise<infer T> ? (v: T) => void : never;
  const first = new Promise<Parameters<typeof resolveFirst>[0]>((r) => (resolveFirst = r));
  const controls: Array<Record<string, unknown>> = [];
  let bytes = 0;
  let tail = '';
  let count = 0;
  ws.on('message', (data: Buffer, binary: boolean) => {
    if (count++ === 0) resolveFirst(JSON.parse(data.toString()));
    else if (!binary) controls.push(JSON.parse(data.toString()));
    if (binary) {
      bytes += data.length;
      tail = (tail + data.toString('latin1')).slice(-65536);
    }
    if (messages.length < 10_000) messages.push({ binary, data: Buffer.from(data) });
  });
  const closed = new Promise<{ code: number; reason: string }>((r) => ws.on('close', (code, reason) => r({ code, reason: reason.toString() })));
  ws.resume();
  return {
    first,
    messages,
    controls,
    closed,
    output: () => Buffer.concat(messages.filter((m) => m.binary).map((m) => m.data)),
    outputBytes: () => bytes,
    outputTail: () => tail,
  };
}

/** Render terminal bytes on a fresh headless terminal and return its visible lines. */
export function render(cols: number, rows: number, ...chunks: Array<string | Buffer>): Promise<string[]> {
  const term = new xtermHeadless.Terminal({ cols, rows, allowProposedApi: true });
  return new Promise((resolve) => {
    for (const c of chunks) term.write(typeof c === 'string' ? c : new Uint8Array(c));
    term.write('', () => {
      const lines: string[] = [];
      const buf = term.buffer.active;
      for (let y = 0; y < rows; y++) lines.push(buf.getLine(buf.viewportY + y)?.translateToString(true) ?? '');
      term.dispose();
      resolve(lines);
    });
  });
}
