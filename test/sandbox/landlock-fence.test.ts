import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { CELISTRA_BIN, runCelistra } from '../support/celistra-cli.js';
import { fenceStage, snapshotTree } from '../support/fence-stage.js';
import { landlockBackend } from '../../src/backends/landlock/index.js';

const caps = landlockBackend.probe();
const skip = caps.available ? false : `landlock backend unavailable here: ${caps.unavailableReason}`;
const MODES: { name: string; env: Record<string, string> }[] = [
  { name: 'with user namespaces', env: {} },
  { name: 'Landlock only (user namespaces forced off)', env: { CELISTRA_FORCE_NO_USERNS: '1', CELISTRA_LANDLOCK_ROOT_WITHOUT_USERNS: 'accept-metadata-gap' } },
];

const stage = (base?: string) => fenceStage('celistra-landlock-', base);

type Stage = ReturnType<typeof stage>;

function fenced(s: Stage, script: string, opts: { extra?: string[]; env?: Record<string, string>; args?: string[] } = {}) {
  return runCelistra(['run', '--backend', 'landlock', '--workspace', s.ws, ...(opts.extra ?? []), '--', 'sh', '-c', script, 'sh', ...(opts.args ?? [])], {
    env: { ...s.env, ...opts.env },
  });
}

for (const mode of MODES) {
  test(`${mode.name}: writes inside the workspace succeed`, { skip }, () => {
    const s = stage();
    const r = fenced(s, 'echo made > new && mkdir d && echo x > d/f && mv d/f d/g && rm d/g && rmdir d && cat new', { env: mode.env });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.toString(), 'made\n');
    assert.equal(readFileSync(join(s.ws, 'new'), 'utf8'), 'made\n');
    s.cleanup();
  });

  test(`${mode.name}: writes to a sibling worktree and the home canary fail and leave the host unchanged`, { skip }, () => {
    const s = stage();
    const before = [snapshotTree(s.sibling), snapshotTree(s.home)];
    const r = fenced(
      s,
      'fails=0; for t in "$1/file" "$1/new" "$2"; do (echo evil > "$t") 2>/dev/null && echo "WROTE $t"; done; ' +
        'mkdir "$1/d" 2>/dev/null && echo MKDIR; rm -f "$1/file" 2>/dev/null; ln -s /etc "$1/l" 2>/dev/null && echo SYMLINK; ' +
        'mv "$2" "$2.moved" 2>/dev/null && echo RENAMED; (: > "$2") 2>/dev/null && echo TRUNCATED; exit 0',
      { env: mode.env, args: [s.sibling, s.canary] },
    );
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.toString(), '', 'no write outside the workspace may succeed');
    assert.deepEqual([snapshotTree(s.sibling), snapshotTree(s.home)], before);
    s.cleanup();
  });

  test(`${mode.name}: read-denied secrets cannot be read`, { skip }, () => {
    const s = stage();
    const extra = join(s.root, 'extra-secret');
    writeFileSync(extra, 'EXTRA SECRET\n');
    const r = fenced(s, 'cat "$1"/.ssh/id_ed25519 "$2" 2>/dev/null; ls "$1"/.ssh 2>/dev/null; exit 0', { env: mode.env, extra: ['--deny-read', extra], args: [s.home, extra] });
    assert.equal(r.status, 0, r.stderr);
    assert.doesNotMatch(r.stdout.toString(), /PRIVATE KEY|EXTRA SECRET|id_ed25519/);
    s.cleanup();
  });

  test(`${mode.name}: TMPDIR is private and writable`, { skip }, () => {
    const s = stage();
    const r = fenced(s, 'echo t > "$TMPDIR/f" && cat "$TMPDIR/f" && case "$TMPDIR" in "$1"/*) echo inside-runtime;; esac', { env: mode.env, args: [join(s.root, 'run')] });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.toString(), 't\ninside-runtime\n');
    s.cleanup();
  });

  test(`${mode.name}: network off blocks a loopback TCP connect to a listener outside`, { skip }, async () => {
    const s = stage();
    const server = createServer((c) => {
      c.on('error', () => {});
      c.end('hello\n');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    const probe = `require('net').connect(${port}, '127.0.0.1').on('connect', () => { console.log('CONNECTED'); process.exit(0); }).on('error', (e) => { console.log(e.code); process.exit(0); })`;
    const run = (net: string) =>
      new Promise<string>((resolve) => {
        const child = spawn(process.execPath, [CELISTRA_BIN, 'run', '--backend', 'landlock', '--net', net, '--workspace', s.ws, '--', process.execPath, '-e', probe], { env: { ...s.env, ...mode.env } });
        let out = '';
        child.stdout.on('data', (d) => (out += d));
        child.stderr.on('data', (d) => (out += d));
        child.on('exit', () => resolve(out));
      });
    const off = await run('off');
    const on = await run('on');
    server.close();
    assert.doesNotMatch(off, /CONNECTED/);
    assert.match(off, /^(ECONNREFUSED|EACCES|EPERM)$/m, off);
    assert.match(on, /CONNECTED/, `with --net on the same connect works (the probe itself is sound): ${on}`);
    s.cleanup();
  });

  test(`${mode.name}: an abstract unix socket outside cannot be reached (ABI 6 scoping)`, { skip: skip || ((caps.details.abi as number) >= 6 ? false : 'needs Landlock ABI 6') }, async () => {
    const s = stage();
    const name = `\0celistra-test-${process.pid}-${Math.random().toString(36).slice(2)}`;
    const server = createServer((c) => {
      c.on('error', () => {});
      c.end('hello\n');
    });
    await new Promise<void>((r) => server.listen(name, r));
    const probe = `require('net').connect(${JSON.stringify(name)}).on('connect', () => { console.log('CONNECTED'); process.exit(0); }).on('error', (e) => { console.log(e.code); process.exit(0); })`;
    const control = await new Promise<string>((resolve) => {
      const c = spawn(process.execPath, ['-e', probe]);
      let out = '';
      c.stdout.on('data', (d) => (out += d));
      c.on('exit', () => resolve(out));
    });
    const fencedRun = await new Promise<string>((resolve) => {
      const c = spawn(process.execPath, [CELISTRA_BIN, 'run', '--backend', 'landlock', '--workspace', s.ws, '--', process.execPath, '-e', probe], { env: { ...s.env, ...mode.env } });
      let out = '';
      c.stdout.on('data', (d) => (out += d));
      c.stderr.on('data', (d) => (out += d));
      c.on('exit', () => resolve(out));
    });
    server.close();
    assert.match(control, /CONNECTED/, 'outside the fence the socket is reachable (the probe is sound)');
    assert.doesNotMatch(fencedRun, /CONNECTED/);
    assert.match(fencedRun, /^(EPERM|EACCES|ECONNREFUSED)$/m, fencedRun);
    s.cleanup();
  });

  test(`${mode.name}: another terminal of the same user cannot be opened`, { skip }, async () => {
    const s = stage();
    const holder = spawn('python3', ['-c', 'import os,pty,time; m,s=pty.openpty(); print(os.ttyname(s), flush=True); time.sleep(30)'], { stdio: ['ignore', 'pipe', 'ignore'] });
    const slave = await new Promise<string>((resolve) => holder.stdout.once('data', (d) => resolve(d.toString().trim())));
    const control = spawnSync('sh', ['-c', 'echo x > "$1" && echo OPENED', 'sh', slave], { encoding: 'utf8' });
    const r = fenced(s, '(echo x > "$1") 2>/dev/null && echo OPENED; (exec 3< "$1") 2>/dev/null && echo READABLE; exit 0', { env: mode.env, args: [slave] });
    holder.kill('SIGKILL');
    assert.equal(control.stdout, 'OPENED\n', 'outside the fence the terminal is writable (the probe is sound)');
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.toString(), '');
    s.cleanup();
  });

  test(`${mode.name}: the exit status is propagated, a signal as 128+n`, { skip }, () => {
    const s = stage();
    assert.equal(fenced(s, 'exit 7', { env: mode.env }).status, 7);
    assert.equal(fenced(s, 'kill -TERM $$', { env: mode.env }).status, 143);
    s.cleanup();
  });
}

test('with user namespaces: chmod, utime and truncate outside the workspace fail (read-only remount)', { skip: skip || (caps.details.userNamespaces ? false : 'no user namespaces here') }, () => {
  const s = stage();
  const before = [snapshotTree(s.sibling), snapshotTree(s.home)];
  const r = fenced(
    s,
    'chmod 600 "$1" 2>/dev/null && echo CHMOD; touch -d 2001-01-01 "$1" 2>/dev/null && echo UTIME; truncate -s 0 "$1" 2>/dev/null && echo TRUNC; chmod 700 "$2" 2>/dev/null && echo CHMODDIR; exit 0',
    { args: [s.canary, s.sibling] },
  );
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.toString(), '');
  assert.deepEqual([snapshotTree(s.sibling), snapshotTree(s.home)], before);
  s.cleanup();
});

test('with user namespaces and a workspace outside /tmp: /tmp is a private empty tmpfs', { skip: skip || (caps.details.userNamespaces ? false : 'no user namespaces here') }, () => {
  const s = stage('/var/tmp');
  const marker = join('/tmp', `celistra-host-marker-${process.pid}`);
  writeFileSync(marker, 'host\n');
  // Through the environment: a path named on the command line would be kept (host-tmp-gap.ts).
  const r = fenced(s, 'test -e "$MARKER" && echo SEES-HOST-TMP; echo mine > /tmp/agent-file && cat /tmp/agent-file; echo t > "$TMPDIR/f" && echo tmpdir-ok', { env: { MARKER: marker } });
  rmSync(marker);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.toString(), 'mine\ntmpdir-ok\n');
  assert.equal(existsSync('/tmp/agent-file'), false, 'the agent wrote into its own /tmp, not the host one');
  s.cleanup();
});

test('signals to processes outside the sandbox are denied (ABI 6 scoping)', { skip: skip || ((caps.details.abi as number) >= 6 ? false : 'needs Landlock ABI 6') }, async () => {
  const s = stage();
  const outside = spawn('sleep', ['30'], { stdio: 'ignore' });
  const r = fenced(s, 'kill -TERM "$1" 2>/dev/null && echo KILLED; exit 0', { args: [String(outside.pid)] });
  const alive = outside.exitCode === null && outside.signalCode === null;
  outside.kill('SIGKILL');
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.toString(), '');
  assert.ok(alive, 'the outside process survived');
  s.cleanup();
});
