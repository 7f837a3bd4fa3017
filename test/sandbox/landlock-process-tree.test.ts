import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CELISTRA_BIN } from '../support/celistra-cli.js';
import { isolatedEnv } from '../support/isolated-env.js';
import { landlockBackend } from '../../src/backends/landlock/index.js';
import { nativeBuild } from '../../src/backends/landlock/native-addon.js';

const caps = landlockBackend.probe();
const skip = caps.available ? false : `landlock backend unavailable here: ${caps.unavailableReason}`;
const MODES: { name: string; env: Record<string, string>; skip: string | false }[] = [
  { name: 'with user namespaces (pid namespace)', env: {}, skip: skip || (caps.details.userNamespaces ? false : 'no user namespaces here') },
  { name: 'Landlock only (subreaper)', env: { CELISTRA_FORCE_NO_USERNS: '1', CELISTRA_LANDLOCK_ROOT_WITHOUT_USERNS: 'accept-metadata-gap' }, skip },
];

function stage() {
  const iso = isolatedEnv('celistra-lltree-');
  const ws = join(iso.root, 'ws');
  mkdirSync(ws);
  return { ...iso, ws, cleanup: () => rmSync(iso.root, { recursive: true, force: true }) };
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Host pids whose environment carries `marker`, read from the host's /proc. */
function hostPidsWithEnv(marker: string): number[] {
  return readdirSync('/proc')
    .filter((n) => /^\d+$/.test(n))
    .map(Number)
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/environ`, 'utf8').includes(marker);
      } catch {
        return false;
      }
    });
}

function commandOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
  } catch {
    return '';
  }
}

/**
 * The agent starts a setsid + nohup child and a double-forked child, each of which would
 * write a file into the workspace 3 s later (the workspace is writable: only death
 * stops that write), then waits until the test has seen them on the host and exits.
 */
const LEAVE_CHILDREN_BEHIND = [
  `setsid nohup sh -c 'echo up > setsid-started; sleep 3; echo late > setsid-late' >/dev/null 2>&1 </dev/null &`,
  `(sh -c 'echo up > fork-started; sleep 3; echo late > fork-late' >/dev/null 2>&1 </dev/null &)`,
  'i=0; while [ ! -e seen ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done',
  'exit 0',
].join('\n');

for (const mode of MODES) {
  test(`${mode.name}: setsid / nohup / double-forked children are gone when celistra run returns`, { skip: mode.skip }, async () => {
    const s = stage();
    const marker = `CELISTRA_TREE_TEST=${randomUUID()}`;
    const [name, value] = marker.split('=') as [string, string];
    const child = spawn(process.execPath, [CELISTRA_BIN, 'run', '--backend', 'landlock', '--workspace', s.ws, '--', 'sh', '-c', LEAVE_CHILDREN_BEHIND], {
      env: { ...s.env, ...mode.env, [name]: value },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));

    const deadline = Date.now() + 15_000;
    while (!(existsSync(join(s.ws, 'setsid-started')) && existsSync(join(s.ws, 'fork-started'))) && Date.now() < deadline) await sleep(20);
    assert.ok(existsSync(join(s.ws, 'setsid-started')) && existsSync(join(s.ws, 'fork-started')), `the children never started: ${stderr}`);
    // A child writes its file just before it execs `sleep`: poll until both sleeps exist.
    let seen: number[] = [];
    let sleepers: number[] = [];
    while (Date.now() < deadline) {
      seen = hostPidsWithEnv(marker).filter((pid) => pid !== child.pid);
      sleepers = seen.filter((pid) => /^sleep 3$/.test(commandOf(pid)));
      if (sleepers.length >= 2) break;
      await sleep(20);
    }
    assert.equal(sleepers.length, 2, `expected both children's sleep on the host, saw: ${seen.map((p) => `${p}:${commandOf(p)}`).join(', ')}`);
    writeFileSync(join(s.ws, 'seen'), '');

    assert.equal(await exited, 0, stderr);
    const alive = seen.filter((pid) => existsSync(`/proc/${pid}`) && readFileSync(`/proc/${pid}/environ`, 'utf8').includes(marker));
    assert.deepEqual(alive, [], `still alive after celistra run returned: ${alive.map((p) => `${p}:${commandOf(p)}`).join(', ')}`);
    assert.deepEqual(hostPidsWithEnv(marker), []);
    // Had they survived, their late writes into the (writable) workspace would land now.
    await sleep(3500);
    assert.equal(existsSync(join(s.ws, 'setsid-late')), false);
    assert.equal(existsSync(join(s.ws, 'fork-late')), false);
    s.cleanup();
  });

  test(`${mode.name}: SIGTERM to celistra run reaches the command and ends its children; status 143`, { skip: mode.skip }, async () => {
    const s = stage();
    const marker = `CELISTRA_TREE_TEST=${randomUUID()}`;
    const [name, value] = marker.split('=') as [string, string];
    const script = `(sh -c 'echo up > bg-started; sleep 30' >/dev/null 2>&1 </dev/null &)\necho ready > ready\nexec sleep 30`;
    const child = spawn(process.execPath, [CELISTRA_BIN, 'run', '--backend', 'landlock', '--workspace', s.ws, '--', 'sh', '-c', script], {
      env: { ...s.env, ...mode.env, [name]: value },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const deadline = Date.now() + 15_000;
    while (!(existsSync(join(s.ws, 'ready')) && existsSync(join(s.ws, 'bg-started'))) && Date.now() < deadline) await sleep(20);
    let seen: number[] = [];
    while (Date.now() < deadline) {
      seen = hostPidsWithEnv(marker).filter((pid) => commandOf(pid) === 'sleep 30');
      if (seen.length >= 2) break;
      await sleep(20);
    }
    assert.equal(seen.length, 2, `expected the command's and the child's sleep: ${stderr}`);
    child.kill('SIGTERM');
    assert.equal(await exited, 143, stderr);
    assert.deepEqual(hostPidsWithEnv(marker), []);
    s.cleanup();
  });
}

test('with user namespaces: /proc shows only the agent\'s processes, the command\'s parent is pid 1', { skip: MODES[0]!.skip }, async () => {
  const s = stage();
  const script = 'echo "ppid=$PPID"; for p in /proc/[0-9]*; do echo "proc=${p#/proc/}"; done; exit 0';
  const child = spawn(process.execPath, [CELISTRA_BIN, 'run', '--backend', 'landlock', '--workspace', s.ws, '--', 'sh', '-c', script], {
    env: s.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  assert.equal(await new Promise((resolve) => child.on('exit', resolve)), 0, stderr);
  assert.match(stdout, /^ppid=1$/m);
  const pids = [...stdout.matchAll(/^proc=(\d+)$/gm)].map((m) => Number(m[1]));
  // init (1), sh, and the processes of the glob's expansion at most: none of the host's.
  assert.ok(pids.includes(1) && pids.length >= 2 && pids.length <= 4, `pids seen: ${pids.join(' ')}`);
  assert.ok(!pids.includes(process.pid) || process.pid <= 4, 'the test runner is visible inside');
  s.cleanup();
});

for (const mode of MODES) {
  test(`${mode.name}: when the helper's parent is SIGKILLed, the agent's whole tree ends`, { skip: mode.skip }, async () => {
    const s = stage();
    const marker = `CELISTRA_TREE_TEST=${randomUUID()}`;
    const [name, value] = marker.split('=') as [string, string];
    const helperOptions = [...(mode.env.CELISTRA_FORCE_NO_USERNS ? [] : ['--namespaces']), '--new-session', '--write', s.ws, '--tmp', s.ws];
    const script = `setsid nohup sh -c 'echo up > setsid-started; sleep 30' >/dev/null 2>&1 </dev/null &\nexec sleep 30`;
    // A stand-in for Celistra: a shell that starts the helper and waits for it.
    const parent = spawn('sh', ['-c', '"$@" & wait', 'sh', nativeBuild().helperPath, ...helperOptions, '--', 'sh', '-c', script], {
      cwd: s.ws,
      env: { ...s.env, [name]: value },
      stdio: 'ignore',
    });
    const gone = new Promise((resolve) => parent.on('exit', resolve));
    const deadline = Date.now() + 15_000;
    while (!existsSync(join(s.ws, 'setsid-started')) && Date.now() < deadline) await sleep(20);
    let sleepers: number[] = [];
    while (Date.now() < deadline) {
      sleepers = hostPidsWithEnv(marker).filter((pid) => commandOf(pid) === 'sleep 30');
      if (sleepers.length >= 2) break;
      await sleep(20);
    }
    assert.equal(sleepers.length, 2, 'expected the command and its setsid child running');
    parent.kill('SIGKILL');
    await gone;
    let alive = sleepers;
    for (let i = 0; i < 100 && alive.length; i++) {
      await sleep(20);
      alive = alive.filter((pid) => existsSync(`/proc/${pid}`) && readFileSync(`/proc/${pid}/environ`, 'utf8').includes(marker));
    }
    assert.deepEqual(alive, [], `alive 2 s after the helper's parent died: ${alive.map((p) => `${p}:${commandOf(p)}`).join(', ')}`);
    s.cleanup();
  });
}

/** Run `file args` in a fresh PTY; `onOutput` may act on the PTY as output arrives. */
async function inPty(
  args: string[],
  env: Record<string, string>,
  onOutput: (all: string, term: import('node-pty').IPty) => void,
): Promise<{ output: string; exitCode: number; signal?: number }> {
  const pty = await import('node-pty');
  const term = pty.spawn(process.execPath, [CELISTRA_BIN, ...args], { cols: 80, rows: 24, env });
  let output = '';
  term.onData((d) => {
    output += d;
    onOutput(output, term);
  });
  const timer = setTimeout(() => term.kill('SIGKILL'), 20_000);
  return new Promise((resolve) =>
    term.onExit(({ exitCode, signal }) => {
      clearTimeout(timer);
      resolve({ output, exitCode, signal });
    }),
  );
}

for (const mode of MODES) {
  test(`${mode.name}: in a terminal the command is the foreground group, gets SIGWINCH and ^C`, { skip: mode.skip }, async () => {
    const s = stage();
    // Fields 5 and 8 of /proc/PID/stat: the process group and the terminal's foreground group.
    const script = 'set -- $(cat /proc/$$/stat); [ "$5" = "$8" ] && echo FOREGROUND; trap "echo GOT-WINCH" WINCH; echo READY; while :; do sleep 0.1; done';
    let resized = false;
    let interrupted = false;
    const r = await inPty(['run', '--backend', 'landlock', '--workspace', s.ws, '--', 'bash', '-c', script], { ...s.env, ...mode.env }, (all, term) => {
      if (!resized && all.includes('READY')) {
        resized = true;
        setTimeout(() => term.resize(100, 30), 200);
      }
      if (!interrupted && all.includes('GOT-WINCH')) {
        interrupted = true;
        term.write('\x03');
      }
    });
    assert.match(r.output, /FOREGROUND/);
    assert.match(r.output, /GOT-WINCH/);
    // ^C ended bash by SIGINT: celistra run reports 128 + 2.
    assert.equal(r.exitCode, 130, r.output);
    s.cleanup();
  });

  test(`${mode.name}: job control works in an interactive shell (^Z stops the job, jobs lists it)`, { skip: mode.skip }, async () => {
    const s = stage();
    const steps: [string, string][] = [
      ['$ ', 'sleep 30\r'],
      // wait for the stop report before asking for the job list
      ['__wait_sleep__', '\x1a'],
      ['Stopped', 'jobs -l > jobs.txt; kill -KILL %1; echo JOBS-DONE\r'],
      ['JOBS-DONE\r\n', 'exit 0\r'],
    ];
    let step = 0;
    let sleepStarted = false;
    const r = await inPty(['run', '--backend', 'landlock', '--workspace', s.ws, '--', 'bash', '--norc', '--noprofile', '-i'], { ...s.env, ...mode.env, PS1: '$ ' }, (all, term) => {
      const [waitFor, send] = steps[step] ?? ['', ''];
      if (!waitFor) return;
      if (waitFor === '__wait_sleep__') {
        if (!sleepStarted) {
          sleepStarted = true;
          setTimeout(() => {
            step++;
            term.write(send);
          }, 500);
        }
        return;
      }
      if (all.includes(waitFor) && all.lastIndexOf(waitFor) >= 0) {
        step++;
        term.write(send);
      }
    });
    assert.equal(r.exitCode, 0, r.output);
    assert.match(r.output, /Stopped\s+sleep 30/);
    assert.match(readFileSync(join(s.ws, 'jobs.txt'), 'utf8'), /\[1\]\+\s+\d+ Stopped\s+sleep 30/);
    s.cleanup();
  });
}
