import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, lstatSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { CELISTRA_BIN, runCelistra } from '../support/celistra-cli.js';
import { fenceStage, snapshotTree } from '../support/fence-stage.js';
import { bwrapBackend } from '../../src/backends/bwrap/index.js';
import { locateBwrap } from '../../src/backends/bwrap/locate.js';
import { buildPolicy } from '../../src/policy/policy.js';
import { celistraPaths } from '../../src/policy/paths.js';
import { createPrivateTmp } from '../../src/run/private-tmp.js';
import { scratchDir } from '../support/scratch-dir.js';

const bwrapCaps = locateBwrap(process.env).found ? bwrapBackend.probe() : undefined;
// Installed but unusable (user namespaces disabled, unprivileged): the refusal is tested in bwrap-degraded.test.ts.
const skip = !bwrapCaps ? 'bwrap is not installed (apt-get install -y bubblewrap)' : bwrapCaps.available ? false : `bwrap is not usable here: ${bwrapCaps.unavailableReason}`;

const stage = () => fenceStage('celistra-bwrap-');

function fenced(s: { ws: string; env: Record<string, string> }, script: string, extra: string[] = [], scriptArgs: string[] = []) {
  return runCelistra(['run', '--backend', 'bwrap', '--workspace', s.ws, ...extra, '--', 'sh', '-c', script, 'sh', ...scriptArgs], { env: s.env });
}

/** Shell-quote one word. */
function q(word: string): string {
  return `'${word.replaceAll("'", "'\\''")}'`;
}

/** Run each attempt in its own shell inside the fence; exit 1 (naming it) if any succeeded. */
function attemptAll(s: { ws: string; env: Record<string, string> }, attempts: string[], extra: string[] = []) {
  const script = 'fail=0; for a in "$@"; do if sh -c "$a" 2>/dev/null; then echo "ALLOWED: $a"; fail=1; fi; done; exit $fail';
  return fenced(s, script, extra, attempts);
}

before(() => {
  if (skip) return;
  // A shared precondition: the CLI must really pick bwrap, not quietly run something else.
  const s = stage();
  const r = runCelistra(['run', '--verbose', '--backend', 'bwrap', '--workspace', s.ws, '--', 'true'], { env: s.env });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /backend bwrap/);
});

test('writes inside the workspace succeed and reach the host', { skip }, () => {
  const s = stage();
  const r = fenced(s, 'echo made > f && mkdir d && echo x > d/g && mv d/g d/h && rm f && echo kept > k && chmod 600 k');
  assert.equal(r.status, 0, r.stderr);
  assert.equal(readFileSync(join(s.ws, 'k'), 'utf8'), 'kept\n');
  assert.equal(lstatSync(join(s.ws, 'k')).mode & 0o777, 0o600);
  assert.ok(existsSync(join(s.ws, 'd', 'h')) && !existsSync(join(s.ws, 'f')));
});

test('writes to a sibling directory fail and leave it unchanged', { skip }, () => {
  const s = stage();
  const before = snapshotTree(s.sibling);
  const d = q(s.sibling);
  const r = attemptAll(s, [`echo x > ${d}/new`, `echo x >> ${d}/file`, `true > ${d}/file`, `rm ${d}/file`, `mv ${d}/file ${d}/moved`, `mkdir ${d}/d`, `ln -s / ${d}/l`, `mkfifo ${d}/p`]);
  assert.equal(r.status, 0, r.stdout.toString() + r.stderr);
  assert.deepEqual(snapshotTree(s.sibling), before);
});

test('the home canary can be neither overwritten, appended, renamed nor deleted', { skip }, () => {
  const s = stage();
  const before = snapshotTree(s.home);
  const c = q(s.canary);
  const r = attemptAll(s, [`echo pwn > ${c}`, `echo pwn >> ${c}`, `true > ${c}`, `mv ${c} ${c}.old`, `rm -f ${c}`, `ln ${c} ${q(s.ws)}/hardlink && echo pwn >> ${q(s.ws)}/hardlink`]);
  assert.equal(r.status, 0, r.stdout.toString() + r.stderr);
  assert.deepEqual(snapshotTree(s.home), before);
});

test('metadata of an outside file cannot be changed (chmod, touch -d)', { skip }, () => {
  const s = stage();
  const before = snapshotTree(s.canary);
  const c = q(s.canary);
  const r = attemptAll(s, [`chmod 777 ${c}`, `touch -d 2001-01-01 ${c}`, `touch ${c}`, `chown "$(id -u)" ${c}`]);
  assert.equal(r.status, 0, r.stdout.toString() + r.stderr);
  assert.deepEqual(snapshotTree(s.canary), before);
});

test('a read-only path inside the workspace can be neither written nor replaced', { skip }, () => {
  const s = stage();
  const pointer = join(s.ws, '.git');
  writeFileSync(pointer, 'gitdir: /somewhere/else\n');
  writeFileSync(join(s.ws, 'decoy'), 'gitdir: /attacker\n');
  const paths = celistraPaths(s.env);
  const tmpDir = createPrivateTmp(paths, 'test');
  const policy = { ...buildPolicy({ workspace: s.ws, tmpDir, paths }), readOnlyPaths: [pointer] };
  const plan = bwrapBackend.plan(policy, ['sh', '-c', 'echo x > .git || echo x >> .git || mv decoy .git || mv .git gone || rm -f .git || exit 0; exit 1'], s.env);
  const before = snapshotTree(pointer);
  const r = spawnSync(plan.file, plan.args, { env: plan.env, cwd: plan.cwd, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(snapshotTree(pointer), before);
  assert.equal(readFileSync(join(s.ws, 'decoy'), 'utf8'), 'gitdir: /attacker\n');
});

test('read-denied directories and files cannot be read', { skip }, () => {
  const s = stage();
  const secretFile = join(s.root, 'token');
  writeFileSync(secretFile, 'TOKEN\n');
  const r = fenced(s, 'cat "$1/.ssh/id_ed25519"; ls -A "$1/.ssh"; cat "$2"; exit 0', ['--deny-read', secretFile], [s.home, secretFile]);
  assert.equal(r.status, 0, r.stderr);
  assert.doesNotMatch(r.stdout.toString(), /PRIVATE KEY|TOKEN|id_ed25519/);
  assert.match(r.stderr, /id_ed25519: No such file/);
  assert.match(r.stderr, /token: Permission denied/);
  assert.equal(readFileSync(secretFile, 'utf8'), 'TOKEN\n');
});

test("Celistra's runtime dir is hidden but the private TMPDIR inside it is writable", { skip }, () => {
  const s = stage();
  const runtime = join(s.env.XDG_RUNTIME_DIR!, 'celistra');
  const r = fenced(s, 'echo t > "$TMPDIR/t" && cat "$TMPDIR/t" && case "$TMPDIR" in "$1"/*) ;; *) exit 9;; esac && ls -A "$1/tmp"', [], [runtime]);
  assert.equal(r.status, 0, r.stderr);
  const [written, listing] = r.stdout.toString().trim().split('\n');
  assert.equal(written, 't');
  // Only this run's own temp dir is visible, not the others in the runtime dir.
  assert.match(listing!, /^run-[^\s]+$/);
});

test('with the workspace outside /tmp, /tmp is private: host files absent, writes stay inside', { skip }, () => {
  const s = stage();
  const ws = realpathSync(scratchDir('celistra-bwrap-ws-', '/var/tmp'));
  const hostMarker = join('/tmp', `celistra-host-marker-${process.pid}`);
  writeFileSync(hostMarker, 'host');
  try {
    // Through the environment: a path named on the command line would be kept (host-tmp-gap.ts).
    const r = runCelistra(['run', '--backend', 'bwrap', '--workspace', ws, '--', 'sh', '-c', 'test -e "$MARKER" && exit 1; echo inner > /tmp/inner-file || exit 2; exit 0'], { env: { ...s.env, MARKER: hostMarker } });
    assert.equal(r.status, 0, r.stderr);
    assert.ok(!existsSync('/tmp/inner-file'));
    assert.equal(readFileSync(hostMarker, 'utf8'), 'host');
  } finally {
    rmSync(ws, { recursive: true, force: true });
    rmSync(hostMarker, { force: true });
  }
});

test('--net off blocks a TCP connect to a loopback listener outside; --net on reaches it', { skip }, async () => {
  const s = stage();
  let connections = 0;
  const server = createServer((c) => {
    connections++;
    c.destroy();
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const port = String((server.address() as AddressInfo).port);
  const probe = 'import socket,sys\ntry:\n  socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=3)\nexcept OSError:\n  sys.exit(3)\n';
  const runPy = (net: string) => runCelistra(['run', '--backend', 'bwrap', '--net', net, '--workspace', s.ws, '--', 'python3', '-c', probe, port], { env: s.env });
  const off = runPy('off');
  await new Promise((ok) => setTimeout(ok, 100));
  assert.equal(off.status, 3, off.stderr);
  assert.equal(connections, 0);
  const on = runPy('on');
  await new Promise((ok) => setTimeout(ok, 100));
  server.close();
  assert.equal(on.status, 0, on.stderr);
  assert.equal(connections, 1);
});

test('the exit status of the command is propagated, signals as 128+n', { skip }, () => {
  const s = stage();
  assert.equal(fenced(s, 'exit 42').status, 42);
  assert.equal(fenced(s, 'kill -TERM $$').status, 143);
});

test('a process outside the sandbox cannot be signalled', { skip }, () => {
  const s = stage();
  const victim = spawn('sleep', ['30'], { stdio: 'ignore' });
  try {
    const r = fenced(s, 'kill -TERM "$1" && exit 1; kill -0 "$1" && exit 2; exit 0', [], [String(victim.pid)]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(victim.exitCode, null);
    assert.equal(victim.signalCode, null);
    // Still there from the host's point of view.
    assert.doesNotThrow(() => process.kill(victim.pid!, 0));
  } finally {
    victim.kill('SIGKILL');
  }
});

test('a writable descriptor Celistra inherited does not reach the command', { skip }, () => {
  const s = stage();
  const outside = join(s.root, 'leaked.txt');
  writeFileSync(outside, 'untouched\n');
  const before = snapshotTree(outside);
  const fd = openSync(outside, 'a');
  try {
    // fd 3 of the CLI, without close-on-exec: what a careless parent process hands down.
    const r = spawnSync(process.execPath, [CELISTRA_BIN, 'run', '--backend', 'bwrap', '--workspace', s.ws, '--', 'sh', '-c', 'ls /proc/self/fd; echo pwn >&3 && exit 1; exit 0'], { env: s.env, stdio: ['ignore', 'pipe', 'pipe', fd], encoding: 'utf8' });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n').sort(), ['0', '1', '2', '3'], 'only stdio (and ls\'s own directory fd) may be open');
  } finally {
    closeSync(fd);
  }
  assert.deepEqual(snapshotTree(outside), before);
});
