import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, lstatSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCelistra } from '../support/celistra-cli.js';
import { isolatedEnv } from '../support/isolated-env.js';
import { landlockBackend } from '../../src/backends/landlock/index.js';
import { nativeBuild } from '../../src/backends/landlock/native-addon.js';
import { HELPER_EXIT } from '../../src/backends/landlock/helper-exit-codes.js';

const caps = landlockBackend.probe();
const skip = caps.available ? false : `landlock backend unavailable here: ${caps.unavailableReason}`;
const skipNoUserns = skip || (caps.details.userNamespaces ? false : 'no user namespaces here');
const HELPER = nativeBuild().helperPath;

function stage() {
  const iso = isolatedEnv('celistra-llhelper-');
  const ws = join(iso.root, 'ws');
  const tmp = join(iso.root, 'tmp');
  const outside = join(iso.root, 'outside');
  mkdirSync(ws);
  mkdirSync(tmp);
  mkdirSync(outside);
  writeFileSync(join(outside, 'f'), 'outside\n');
  return { ...iso, ws, tmp, outside, cleanup: () => rmSync(iso.root, { recursive: true, force: true }) };
}

type Stage = ReturnType<typeof stage>;

/** Run the helper directly: options, then `sh -c script sh args...`. */
function helper(s: Stage, options: string[], script: string, args: string[] = [], stdio: ('pipe' | 'ignore')[] = ['ignore', 'pipe', 'pipe']) {
  const r = spawnSync(HELPER, [...options, '--write', s.ws, '--tmp', s.tmp, '--', 'sh', '-c', script, 'sh', ...args], {
    cwd: s.ws,
    env: { ...s.env, TMPDIR: s.tmp },
    stdio,
    timeout: 30_000,
  });
  return { status: r.status, stdout: r.stdout?.toString() ?? '', stderr: r.stderr?.toString() ?? '' };
}

test('a read-only path inside the workspace can be neither written nor replaced, the rest stays writable', { skip: skipNoUserns }, () => {
  const s = stage();
  const pointer = join(s.ws, '.git');
  writeFileSync(pointer, 'gitdir: /somewhere\n');
  const before = { content: readFileSync(pointer, 'utf8'), st: lstatSync(pointer) };
  const r = helper(
    s,
    ['--namespaces', '--read-only', pointer],
    'echo evil > .git 2>/dev/null && echo WROTE; mv .git moved 2>/dev/null && echo RENAMED; rm -f .git 2>/dev/null; ' +
      'echo y > other && mv other .git 2>/dev/null && echo REPLACED; chmod 777 .git 2>/dev/null && echo CHMOD; echo ok > mine && cat mine',
  );
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, 'ok\n');
  const after = lstatSync(pointer);
  assert.equal(readFileSync(pointer, 'utf8'), before.content);
  assert.deepEqual([after.mode, after.mtimeMs, after.ino], [before.st.mode, before.st.mtimeMs, before.st.ino]);
  s.cleanup();
});

test('the command holds no capabilities, so even root cannot undo a read-only carve-out with mount_setattr, nor from a nested namespace', { skip: skipNoUserns }, () => {
  const s = stage();
  const pointer = join(s.ws, '.git');
  writeFileSync(pointer, 'gitdir: /somewhere\n');
  // mount_setattr(AT_FDCWD, path, 0, {attr_clr: MOUNT_ATTR_RDONLY}): Landlock does not mediate it.
  const clearReadOnly = [
    'import ctypes, os, sys',
    'libc = ctypes.CDLL(None, use_errno=True)',
    'if len(sys.argv) > 2: print("nested", libc.unshare(0x10000000 | 0x20000))',
    'attr = (ctypes.c_uint64 * 4)(0, 1, 0, 0)',
    'r = libc.syscall(442, -100, sys.argv[1].encode(), 0, attr, 32)',
    'print("CLEARED" if r == 0 else os.strerror(ctypes.get_errno()))',
  ].join('\n');
  const r = helper(s, ['--namespaces', '--read-only', pointer], 'grep -E "^Cap(Prm|Eff|Bnd)" /proc/self/status; python3 -c "$1" "$2"; python3 -c "$1" "$2" nested; (echo evil > "$2") 2>/dev/null && echo WROTE; exit 0', [clearReadOnly, pointer]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /CapPrm:\s+0+\n/);
  assert.match(r.stdout, /CapEff:\s+0+\n/);
  assert.match(r.stdout, /CapBnd:\s+0+\n/);
  assert.match(r.stdout, /nested 0\n/, 'the nested user + mount namespace was created');
  assert.doesNotMatch(r.stdout, /CLEARED|WROTE/);
  assert.equal(readFileSync(pointer, 'utf8'), 'gitdir: /somewhere\n');
  s.cleanup();
});

test('read-only paths without namespaces are refused before the command runs', { skip }, () => {
  const s = stage();
  const r = helper(s, ['--read-only', join(s.ws, 'x')], 'touch "$1"', [join(s.ws, 'ran')]);
  assert.equal(r.status, HELPER_EXIT.namespace);
  assert.match(r.stderr, /^celistra-exec: read-only paths/);
  assert.equal(existsSync(join(s.ws, 'ran')), false);
  s.cleanup();
});

test('an ABI too low for a Landlock-only fence makes the helper refuse with its own status', { skip }, () => {
  const s = stage();
  const marker = join(s.ws, 'ran');
  const low = helper(s, ['--abi-cap', '2'], 'touch "$1"', [marker]);
  assert.equal(low.status, HELPER_EXIT.landlockAbi);
  assert.match(low.stderr, /^celistra-exec: this policy needs Landlock ABI 3/);
  const netOff = helper(s, ['--abi-cap', '3', '--net', 'off'], 'touch "$1"', [marker]);
  assert.equal(netOff.status, HELPER_EXIT.landlockAbi);
  assert.equal(existsSync(marker), false, 'the command never ran');
  s.cleanup();
});

test('with namespaces even ABI 1 holds the fence: inside writable, outside not, truncate outside stopped', { skip: skipNoUserns }, () => {
  const s = stage();
  const target = join(s.outside, 'f');
  const r = helper(s, ['--namespaces', '--abi-cap', '1'], 'echo in > in && cat in; echo x > "$1" 2>/dev/null && echo WROTE; truncate -s 0 "$1" 2>/dev/null && echo TRUNC; exit 0', [target]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, 'in\n');
  assert.equal(readFileSync(target, 'utf8'), 'outside\n');
  s.cleanup();
});

test('with network off the command can still reach a server it starts itself on loopback', { skip: skipNoUserns }, () => {
  const s = stage();
  const selfServe = [
    'import socket',
    'srv = socket.socket(); srv.bind(("127.0.0.1", 0)); srv.listen(1)',
    'c = socket.create_connection(srv.getsockname(), timeout=5)',
    'print("LOOPBACK-OK")',
  ].join('\n');
  const r = helper(s, ['--namespaces', '--net', 'off'], 'python3 -c "$1"', [selfServe]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, 'LOOPBACK-OK\n');
  s.cleanup();
});

test('the command runs with no_new_privs, in the session the helper leads, without inherited descriptors', { skip }, () => {
  const s = stage();
  // Landlock-only mode: the helper stays as the command's parent and leads a new session.
  const ownSession = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ')[3];
  const r = helper(
    s,
    ['--new-session'],
    'grep NoNewPrivs /proc/self/status; set -- $(cat /proc/$$/stat); [ "$6" = "$PPID" ] && echo "session-of-helper $6"; [ -e /proc/$$/fd/3 ] && echo LEAKED-FD; exit 0',
    [],
    ['ignore', 'pipe', 'pipe', 'pipe'],
  );
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /NoNewPrivs:\s+1/);
  const session = /session-of-helper (\d+)/.exec(r.stdout)?.[1];
  assert.ok(session, r.stdout);
  assert.notEqual(session, ownSession);
  assert.doesNotMatch(r.stdout, /LEAKED-FD/);
  s.cleanup();
});

/** CapPrm and CapEff of a live process, as /proc shows them (hex masks). */
function capabilitiesOf(pid: number): { permitted: string; effective: string } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return { permitted: /^CapPrm:\s+(\w+)/m.exec(status)![1]!, effective: /^CapEff:\s+(\w+)/m.exec(status)![1]! };
}

const skipNotRoot = skip || (process.getuid?.() === 0 ? false : 'only root starts with capabilities to lose');

/**
 * Spawned by Celistra (no --spool), the helper's top process only relays signals to its
 * child and waits: run as root it must not keep root's capabilities beside the agent,
 * with or without namespaces.
 */
test('spawned by Celistra as root, the helper\'s own process holds no capabilities while the command runs', { skip: skipNotRoot }, async () => {
  const s = stage();
  try {
    for (const mode of caps.details.userNamespaces ? [['--namespaces'], []] : [[]]) {
      const child = spawn(HELPER, [...mode, '--write', s.ws, '--tmp', s.tmp, '--', 'sh', '-c', 'echo ready; exec sleep 30'], {
        cwd: s.ws,
        env: { ...s.env, TMPDIR: s.tmp },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const [first] = (await once(child.stdout!, 'data')) as [Buffer];
      assert.equal(first.toString(), 'ready\n');
      const top = capabilitiesOf(child.pid!);
      child.kill('SIGTERM');
      const [code, signal] = await once(child, 'exit');
      assert.deepEqual(top, { permitted: '0000000000000000', effective: '0000000000000000' }, `mode ${mode.join(' ') || 'Landlock only'}`);
      // SIGTERM was passed on to the command, and the helper ends as the command did.
      assert.deepEqual([code, signal], [null, 'SIGTERM']);
    }
  } finally {
    s.cleanup();
  }
});

/**
 * Behind `celistra run`'s waiter (native/src/exec-replace.c) the helper shares the caller's
 * process group with it, so the terminal's ^C reaches both; the waiter passes it on, and
 * the helper must pass on only what the waiter sends, or the command gets it twice.
 */
test('with --signals-via-parent the helper passes on the signals its parent sends and drops the rest', { skip }, async () => {
  const s = stage();
  try {
    const script = "n=0; trap 'n=$((n+1))' INT; echo ready; i=0; while [ $i -lt 40 ]; do sleep 0.05; i=$((i+1)); done; echo \"got $n\"";
    for (const [flags, expected] of [[['--signals-via-parent'], 'got 1'], [[], 'got 2']] as const) {
      // Either mode: the top process relays signals the same way (without namespaces it
      // was spawned with --namespaces anyway, failed, and left the rest of this file pending).
      const child = spawn(HELPER, [...flags, ...(skipNoUserns ? [] : ['--namespaces']), '--write', s.ws, '--tmp', s.tmp, '--', 'sh', '-c', script], {
        cwd: s.ws,
        env: { ...s.env, TMPDIR: s.tmp },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let out = '';
      child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
      await once(child.stdout!, 'data');
      const exited = once(child, 'exit');
      // From another process (as the terminal's copy would come), then from the parent.
      assert.equal(spawnSync('kill', ['-INT', String(child.pid)]).status, 0);
      await new Promise((r) => setTimeout(r, 300));
      child.kill('SIGINT');
      assert.deepEqual(await exited, [0, null]);
      assert.equal(out, `ready\n${expected}\n`, `flags: ${flags.join(' ') || 'none'}`);
    }
  } finally {
    s.cleanup();
  }
});

test('--wait-for takes only a child of its own, and says so otherwise', { skip }, () => {
  const notPid = spawnSync(HELPER, ['--wait-for', 'x1'], { encoding: 'utf8' });
  assert.equal(notPid.status, HELPER_EXIT.usage);
  assert.match(notPid.stderr, /^celistra-exec: --wait-for needs a pid, not x1/);
  const notChild = spawnSync(HELPER, ['--wait-for', String(process.pid)], { encoding: 'utf8' });
  assert.equal(notChild.status, HELPER_EXIT.usage);
  assert.match(notChild.stderr, /^celistra-exec: --wait-for \d+: No child process(es)?/);
});

/** The fixture, compiled for this run: a child ended, its SIGCHLD taken, then the waiter. */
function lostSigchldFixture(dir: string): string | undefined {
  const source = fileURLToPath(new URL('../../../test/support/lost-sigchld.c', import.meta.url));
  const out = join(dir, 'lost-sigchld');
  const cc = spawnSync('cc', ['-O2', '-o', out, source], { encoding: 'utf8' });
  return cc.status === 0 ? out : undefined;
}

test('the waiter reaps a helper that ended before it started, even with the SIGCHLD gone', { skip }, () => {
  const s = stage();
  try {
    const fixture = lostSigchldFixture(s.root);
    assert.ok(fixture, 'cc builds the fixture (a C compiler is needed to build the addon anyway)');
    // Without the reap at start the waiter sleeps for ever: the timeout ends it with SIGKILL.
    const r = spawnSync(fixture, [HELPER], { encoding: 'utf8', timeout: 10_000, killSignal: 'SIGKILL' });
    assert.deepEqual([r.status, r.signal], [7, null], r.stderr);
  } finally {
    s.cleanup();
  }
});

test('helper errors are one prefixed line with statuses clear of 126/127 and 128+n', { skip }, () => {
  const s = stage();
  const usage = spawnSync(HELPER, ['--bogus'], { encoding: 'utf8' });
  assert.equal(usage.status, HELPER_EXIT.usage);
  assert.match(usage.stderr, /^celistra-exec: unknown option --bogus/);
  const missing = spawnSync(HELPER, ['--write', s.ws, '--', 'no-such-command-celistra'], { encoding: 'utf8', cwd: s.ws, env: s.env });
  assert.equal(missing.status, HELPER_EXIT.notFound);
  assert.match(missing.stderr, /^celistra-exec: cannot run no-such-command-celistra/);
  s.cleanup();
});

test('the command is looked up and started as execvp does, whatever C library the helper is built with', { skip }, () => {
  const s = stage();
  const bin = join(s.root, 'bin');
  mkdirSync(bin);
  // No "#!": run by /bin/sh, as glibc's execvp and a shell do (musl's execvp would refuse).
  writeFileSync(join(bin, 'plain-script'), 'echo "script ran with $1"\n', { mode: 0o755 });
  writeFileSync(join(bin, 'not-executable'), 'echo never\n', { mode: 0o644 });
  const start = (command: string[], env: Record<string, string>) =>
    spawnSync(HELPER, ['--write', s.ws, '--tmp', s.tmp, '--', ...command], { cwd: s.ws, env, encoding: 'utf8' });
  const withBin = { ...s.env, PATH: `${bin}:/usr/bin:/bin` };

  const byName = start(['plain-script', 'an-arg'], withBin);
  assert.equal(byName.status, 0, byName.stderr);
  assert.equal(byName.stdout, 'script ran with an-arg\n');
  const byPath = start([join(bin, 'plain-script'), 'x'], s.env);
  assert.equal(byPath.stdout, 'script ran with x\n');

  const unexecutable = start(['not-executable'], withBin);
  assert.equal(unexecutable.status, HELPER_EXIT.cannotExecute);
  assert.match(unexecutable.stderr, /^celistra-exec: cannot run not-executable: Permission denied/);

  // PATH unset: /bin:/usr/bin, as glibc and bwrap look.
  const { PATH: _unused, ...noPath } = s.env;
  const defaultPath = start(['true'], noPath);
  assert.equal(defaultPath.status, 0, defaultPath.stderr);
  s.cleanup();
});

/**
 * With --spool (`celistra run` exec'd into the helper) the helper's top process records
 * every end of the run, its own refusals included, exactly as it records the command's:
 * an exit event with the status, the private TMPDIR removed, the probe cache dropped after
 * a fence failure (120..124) and kept otherwise.
 */
test('with --spool every end is recorded: the command\'s exit, a refusal of the top process, a fence failure in its child', { skip }, () => {
  const s = stage();
  const spool = join(s.root, 'audit.open');
  const done = join(s.root, 'audit.done');
  const cache = join(s.root, 'probe-cache.json');
  const marker = join(s.ws, 'ran');
  const run = (options: string[], script = 'touch "$1"; exit 7') => {
    writeFileSync(spool, '');
    rmSync(done, { force: true });
    mkdirSync(s.tmp, { recursive: true });
    writeFileSync(join(s.tmp, 'left-behind'), 'x');
    writeFileSync(cache, '{}');
    const report = ['--spool', spool, '--audit-agent-json', '"agent-x"', '--started-ms', String(Date.now()), '--remove-tmp', '--probe-cache', cache];
    const r = spawnSync(HELPER, [...options, '--write', s.ws, '--tmp', s.tmp, ...report, '--', 'sh', '-c', script, 'sh', marker], {
      cwd: s.ws,
      env: s.env,
      encoding: 'utf8',
    });
    assert.equal(existsSync(spool), false, 'the spool is marked finished');
    const lines = readFileSync(done, 'utf8').trim().split('\n');
    assert.equal(lines.length, 1, lines.join('\n'));
    const event = JSON.parse(lines[0]!) as { type: string; agent: string; data: string };
    assert.equal(event.type, 'exit');
    assert.equal(event.agent, 'agent-x');
    assert.equal(existsSync(s.tmp), false, 'the private TMPDIR is removed');
    return { status: r.status, stderr: r.stderr, data: JSON.parse(event.data) as { code: number | null; signal: string | null }, cacheKept: existsSync(cache) };
  };

  const ok = run(['--new-session']);
  assert.equal(ok.status, 7, ok.stderr);
  assert.deepEqual([ok.data.code, ok.data.signal, ok.cacheKept], [7, null, true]);
  assert.equal(existsSync(marker), true);
  rmSync(marker);

  // Named as Node names it (the helper's own table, not the C library's).
  const killed = run(['--new-session'], 'kill -s USR2 $$');
  assert.equal(killed.status, 128 + 12, killed.stderr);
  assert.deepEqual([killed.data.code, killed.data.signal], [null, 'SIGUSR2']);

  // Refused by the top process itself, before any child exists.
  const refused = run(['--read-only', join(s.ws, 'x')]);
  assert.equal(refused.status, HELPER_EXIT.namespace);
  assert.match(refused.stderr, /^celistra-exec: read-only paths/);
  assert.deepEqual([refused.data.code, refused.data.signal, refused.cacheKept], [HELPER_EXIT.namespace, null, false]);
  assert.equal(existsSync(marker), false, 'the command never ran');

  if (!skipNoUserns) {
    // Failed inside the namespaces, in the child that builds the fence.
    const fence = run(['--namespaces', '--read-only', join(s.ws, 'missing')]);
    assert.equal(fence.status, HELPER_EXIT.namespace);
    assert.match(fence.stderr, /^celistra-exec: cannot bind read-only path/);
    assert.deepEqual([fence.data.code, fence.data.signal, fence.cacheKept], [HELPER_EXIT.namespace, null, false]);
    assert.equal(existsSync(marker), false, 'the command never ran');
  }
  s.cleanup();
});

test('celistra run refuses, and runs nothing, when Landlock is forced off or too old', { skip }, () => {
  const s = stage();
  const marker = join(s.ws, 'ran');
  const cases: Record<string, string>[] = [
    { CELISTRA_LANDLOCK_FORCE_ABI: '0' },
    { CELISTRA_LANDLOCK_FORCE_ABI: '2', CELISTRA_FORCE_NO_USERNS: '1' },
  ];
  for (const force of cases) {
    const r = runCelistra(['run', '--backend', 'landlock', '--workspace', s.ws, '--', 'touch', marker], { env: { ...s.env, ...force } });
    assert.equal(r.status, 67, `${JSON.stringify(force)}: ${r.stderr}`);
    assert.match(r.stderr, /landlock/);
    assert.match(r.stderr, /hint: /);
  }
  // The ABI refusal itself: as root, the root-without-namespaces refusal would come first.
  const netOff = runCelistra(['run', '--backend', 'landlock', '--net', 'off', '--workspace', s.ws, '--', 'touch', marker], {
    env: { ...s.env, CELISTRA_LANDLOCK_FORCE_ABI: '3', CELISTRA_FORCE_NO_USERNS: '1', CELISTRA_LANDLOCK_ROOT_WITHOUT_USERNS: 'accept-metadata-gap' },
  });
  assert.equal(netOff.status, 67, netOff.stderr);
  assert.match(netOff.stderr, /ABI 4/);
  assert.equal(existsSync(marker), false, 'the command never ran');
  s.cleanup();
});
