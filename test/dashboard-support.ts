/**
 * The dashboard in tests: a harness daemon with its dashboard on a free port, a login
 * link from the real `celistra dashboard`, and raw HTTP requests with any Host, Origin
 * and Cookie (fetch would not let a test set Host).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { request } from 'node:http';
import WebSocket from 'ws';
import { CLI_MAIN, startDaemonProcess, type DaemonProcess, type Sandbox } from './daemon-harness.js';

export interface DashboardDaemon {
  daemon: DaemonProcess;
  port: number;
  origin: string;
  host: string;
}

export async function startDashboardDaemon(sb: Sandbox, extraArgs: string[] = [], cliMain?: string): Promise<DashboardDaemon> {
  const daemon = await startDaemonProcess(sb, ['--dashboard-port', '0', ...extraArgs], cliMain);
  const status = await sb.client.call<{ dashboard: { port: number | null; reason?: string } | null }>('GET', '/v1/status');
  const port = status.dashboard?.port;
  if (!port) throw new Error(`the daemon reports no dashboard: ${JSON.stringify(status.dashboard)}`);
  return { daemon, port, host: `127.0.0.1:${port}`, origin: `http://127.0.0.1:${port}` };
}

/** `celistra dashboard --json`, run as a user would. */
export function dashboardCommand(sb: Sandbox, ...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI_MAIN, 'dashboard', ...args], { env: sb.env, encoding: 'utf8', timeout: 20_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

export function loginLink(sb: Sandbox): string {
  const r = dashboardCommand(sb, '--json');
  if (r.status !== 0) throw new Error(`celistra dashboard failed (${r.status}): ${r.stderr}`);
  return (JSON.parse(r.stdout) as { url: string }).url;
}

export interface RawAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A request with exactly these headers, to 127.0.0.1 or the `address` given. */
export function rawRequest(port: number, method: string, path: string, headers: Record<string, string>, body?: string, address = '127.0.0.1'): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: address, port, method, path, headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) }) } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Follow a login link: the session cookie (`name=value`) it sets. */
export async function login(d: DashboardDaemon, link: string): Promise<string> {
  const url = new URL(link);
  const res = await rawRequest(d.port, 'GET', url.pathname + url.search, { host: d.host });
  const set = res.headers['set-cookie']?.[0];
  if (res.status !== 303 || !set) throw new Error(`login answered ${res.status}: ${res.body}`);
  return set.split(';')[0]!;
}

/** A WebSocket upgrade on the dashboard: resolves to the open socket, or the refusal's status. */
/**
 * A WebSocket upgrade as a browser would make it: the socket, or the status it was refused
 * with. `first` is the first message, listened for from the moment the socket opens (a
 * server that speaks first may do so before the caller's own listener exists).
 */
export function upgrade(d: DashboardDaemon, path: string, headers: Record<string, string>): Promise<{ ws?: WebSocket; status?: number; first?: Promise<string> }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${d.port}${path}`, { headers, perMessageDeflate: false });
    ws.once('open', () => resolve({ ws, first: new Promise<string>((r) => ws.once('message', (m) => r(String(m)))) }));
    ws.once('unexpected-response', (_req, res) => {
      res.resume();
      resolve({ status: res.statusCode });
    });
    ws.once('error', () => resolve({ status: -1 }));
  });
}

export interface TaskRepo {
  repo: string;
  /** git in the main checkout, as its owner (committer set). */
  git: (...args: string[]) => { status: number | null; stdout: string; stderr: string };
}

/** A repository with one commit on main and a task worktree made by `celistra worktree add TASK`. */
export function taskRepo(sb: Sandbox, task: string): TaskRepo {
  const repo = join(sb.root, `repo-${task}`);
  mkdirSync(repo);
  const git = (...args: string[]) => {
    const r = spawnSync('git', ['-c', 'user.email=t@example.com', '-c', 'user.name=t', ...args], { cwd: repo, env: sb.env, encoding: 'utf8' });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  for (const args of [['init', '-q', '-b', 'main'], ['add', 'README'], ['commit', '-q', '-m', 'init']]) {
    if (args[0] === 'add') writeFileSync(join(repo, 'README'), 'hello\n');
    const r = git(...args);
    if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
  }
  const add = spawnSync(process.execPath, [CLI_MAIN, 'worktree', 'add', task], { cwd: repo, env: sb.env, encoding: 'utf8' });
  if (add.status !== 0) throw new Error(`celistra worktree add ${task}: ${add.stderr}`);
  return { repo, git };
}

/** What `spyOnAttach` records in the page (read it with page.evaluate on `window`). */
export interface AttachSpy {
  /** Output bytes the attach socket received. */
  __bytes: number;
  /** Screens received with reason `resync`. */
  __resyncs: number;
  /** Screens received with reason `screens` (screen mode, docs/api.md). */
  __screens: number;
  /** When it last received anything (Date.now()). */
  __last: number;
  /** The types of the control messages the page sent on it (hold, resync, ack, resize...). */
  __sent: string[];
}

/** A page init script (context.addInitScript): records what the dashboard's attach socket receives and sends. */
export function spyOnAttach(): void {
  const w = window as unknown as AttachSpy;
  w.__bytes = 0;
  w.__resyncs = 0;
  w.__screens = 0;
  w.__last = 0;
  w.__sent = [];
  const Native = window.WebSocket;
  window.WebSocket = class extends Native {
    constructor(url: string | URL, protocols?: string | string[]) {
      super(url, protocols);
      if (!String(url).includes('/attach')) return;
      this.addEventListener('message', (ev) => {
        w.__last = Date.now();
        if (typeof ev.data !== 'string') {
          w.__bytes += (ev.data as ArrayBuffer).byteLength;
          return;
        }
        const reason = (JSON.parse(ev.data) as { reason?: string }).reason;
        if (reason === 'resync') w.__resyncs++;
        else if (reason === 'screens') w.__screens++;
      });
    }
    override send(data: string | ArrayBufferLike | Blob | ArrayBufferView): void {
      if (typeof data === 'string' && this.url.includes('/attach')) w.__sent.push((JSON.parse(data) as { type: string }).type);
      super.send(data);
    }
  };
}

/**
 * What plain `git diff --numstat` on the host says a task changed against `base`: its
 * commits and its uncommitted work (new files included), read through a throwaway index
 * so the worktree's own index is untouched. The yardstick for the daemon's diff stats.
 */
export function hostNumstat(worktree: string, base: string): { files: number; added: number; removed: number } {
  const index = join(mkdtempSync(join(tmpdir(), 'celistra-numstat-')), 'index');
  const env = { ...process.env, GIT_INDEX_FILE: index };
  const run = (...args: string[]) => {
    const r = spawnSync('git', ['-C', worktree, ...args], { env, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  run('read-tree', 'HEAD');
  run('add', '-A', '.');
  const lines = run('diff', '--cached', '--numstat', base).split('\n').filter(Boolean);
  rmSync(dirname(index), { recursive: true, force: true });
  const counts = lines.map((l) => l.split('\t'));
  return { files: counts.length, added: counts.reduce((n, c) => n + (Number(c[0]) || 0), 0), removed: counts.reduce((n, c) => n + (Number(c[1]) || 0), 0) };
}
