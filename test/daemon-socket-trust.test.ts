import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLI_MAIN, sleep } from './daemon-harness.js';
import { checkRuntimeDir } from '../src/daemon/socket-trust.js';
import { scratchDir } from './support/scratch-dir.js';

/**
 * Issue 19, class 2: another local user must not be able to pose as your daemon. The
 * impostor is a real process of the user `celistra-ci` listening where your client looks.
 */
const OTHER = 'celistra-ci';
const otherIds = (() => {
  const r = spawnSync('id', ['-u', OTHER], { encoding: 'utf8' });
  const g = spawnSync('id', ['-g', OTHER], { encoding: 'utf8' });
  return r.status === 0 ? { uid: Number(r.stdout.trim()), gid: Number(g.stdout.trim()) } : undefined;
})();
const asRoot = process.getuid?.() === 0;
const skipOther = !asRoot ? 'needs root, to run an impostor as a second local user' : !otherIds ? `needs the local user ${OTHER}` : false;

/** An HTTP server on a unix socket, run as OTHER, answering a fake fleet and logging every request it gets. */
const IMPOSTOR = `
const http = require('node:http');
const fs = require('node:fs');
const [sock, log] = process.argv.slice(2);
process.umask(0);
http.createServer((req, res) => {
  let body = '';
  req.on('data', (d) => (body += d));
  req.on('end', () => {
    fs.appendFileSync(log, req.method + ' ' + req.url + ' ' + body + '\\n');
    res.setHeader('content-type', 'application/json');
    if (req.url === '/v1/status') res.end(JSON.stringify({ pid: 1, version: 'x', uptimeMs: 1, agents: 1, socketPath: sock, scrollbackBytes: 1 }));
    else res.end(JSON.stringify({ agents: [{ name: 'impostor-fleet', state: 'running', argv: ['x'], restarts: 0, lastLine: 'gotcha', backend: 'landlock', workspace: '/', autoRestart: false, unsandboxed: false, pid: 1, holderPid: 1, startedAt: 0, uptimeMs: 0, worktree: null, branch: null, lastExit: null, restartAt: null }] }));
  });
}).listen(sock, () => process.stdout.write('listening\\n'));
`;

interface Stage {
  root: string;
  shared: string;
  env: NodeJS.ProcessEnv;
  log: string;
  impostor?: ChildProcess;
}

/** A shared sticky dir like /tmp, and a home of ours; XDG_RUNTIME_DIR points into the shared dir. */
function stage(): Stage {
  const root = scratchDir('celistra-trust-');
  chmodSync(root, 0o755);
  const shared = join(root, 'shared');
  mkdirSync(shared);
  chmodSync(shared, 0o1777);
  const home = join(root, 'home');
  mkdirSync(home, { mode: 0o700 });
  const log = join(root, 'impostor.log');
  writeFileSync(log, '');
  chmodSync(log, 0o666);
  writeFileSync(join(root, 'impostor.cjs'), IMPOSTOR);
  chmodSync(join(root, 'impostor.cjs'), 0o644);
  const env = { PATH: process.env.PATH, HOME: home, XDG_STATE_HOME: join(home, 'state'), XDG_CONFIG_HOME: join(home, 'config'), XDG_RUNTIME_DIR: shared };
  return { root, shared, env, log };
}

/** OTHER makes `<shared>/celistra` first (its own, 0777 so it can be entered) and listens in it. */
async function startImpostor(s: Stage, dirMode = 0o777): Promise<string> {
  const dir = join(s.shared, 'celistra');
  const made = spawnSync('runuser', ['-u', OTHER, '--', 'mkdir', '-m', dirMode.toString(8), dir]);
  assert.equal(made.status, 0, String(made.stderr));
  const sock = join(dir, 'daemon.sock');
  s.impostor = spawn('runuser', ['-u', OTHER, '--', process.execPath, join(s.root, 'impostor.cjs'), sock, s.log], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    s.impostor!.stdout!.once('data', () => resolve());
    s.impostor!.once('exit', (c) => reject(new Error(`impostor exited ${c}`)));
  });
  return sock;
}

async function stopImpostor(s: Stage): Promise<void> {
  if (!s.impostor || s.impostor.exitCode !== null) return;
  const gone = new Promise((r) => s.impostor!.once('exit', r));
  s.impostor.kill('SIGTERM');
  await gone;
}

function cli(s: Stage, ...args: string[]) {
  return spawnSync(process.execPath, [CLI_MAIN, ...args], { env: s.env, encoding: 'utf8', timeout: 30_000 });
}

test('ctl ls refuses a runtime dir another user made first, and sends the impostor nothing', { skip: skipOther }, async () => {
  const s = stage();
  try {
    await startImpostor(s);
    const r = cli(s, 'ctl', 'ls');
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /not private to you/);
    assert.doesNotMatch(r.stdout, /impostor-fleet/);
    const send = cli(s, 'ctl', 'send', 'impostor-fleet', 'my secret keystrokes');
    assert.notEqual(send.status, 0);
    assert.equal(readFileSync(s.log, 'utf8'), '', 'the impostor received no request');
  } finally {
    await stopImpostor(s);
  }
});

test('daemon start does not report a daemon it did not start', { skip: skipOther }, async () => {
  const s = stage();
  try {
    await startImpostor(s);
    const r = cli(s, 'daemon', 'start');
    assert.notEqual(r.status, 0, r.stdout);
    assert.doesNotMatch(r.stdout, /started/);
    assert.equal(readFileSync(s.log, 'utf8'), '', 'the impostor received no request');
  } finally {
    await stopImpostor(s);
    // Our daemon refused the impostor's dir, so it must not be running.
    await sleep(100);
  }
});

test('ctl ls refuses a socket in a dir of yours when the process listening on it is another user', { skip: skipOther }, async () => {
  const s = stage();
  try {
    const sock = await startImpostor(s);
    // Root can make the dir and the socket file look like ours; the listener stays OTHER's.
    const dir = join(s.shared, 'celistra');
    chownSync(dir, 0, 0);
    chmodSync(dir, 0o700);
    chownSync(sock, 0, 0);
    assert.equal(lstatSync(sock).uid, 0);
    const r = cli(s, 'ctl', 'ls');
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, new RegExp(`runs as uid ${otherIds!.uid}, not as you`));
    assert.equal(readFileSync(s.log, 'utf8'), '', 'the impostor received no request');
  } finally {
    await stopImpostor(s);
  }
});

test('a runtime dir that is a symbolic link is refused', () => {
  const root = scratchDir('celistra-trust-link-');
  chmodSync(root, 0o700);
  const real = join(root, 'real');
  mkdirSync(real, { mode: 0o700 });
  symlinkSync(real, join(root, 'celistra'));
  assert.throws(() => checkRuntimeDir(join(root, 'celistra')), /is a symbolic link/);
});

test('a runtime dir in a parent others may write to (not sticky) is refused', () => {
  const root = scratchDir('celistra-trust-parent-');
  chmodSync(root, 0o777);
  mkdirSync(join(root, 'celistra'), { mode: 0o700 });
  assert.throws(() => checkRuntimeDir(join(root, 'celistra')), /lets another user replace it/);
  chmodSync(root, 0o1777);
  assert.doesNotThrow(() => checkRuntimeDir(join(root, 'celistra')));
});

test('a runtime dir others can enter is refused', () => {
  const root = scratchDir('celistra-trust-mode-');
  chmodSync(root, 0o700);
  mkdirSync(join(root, 'celistra'), { mode: 0o700 });
  chmodSync(join(root, 'celistra'), 0o755);
  assert.throws(() => checkRuntimeDir(join(root, 'celistra')), /not private to you/);
  assert.ok(existsSync(join(root, 'celistra')));
});
