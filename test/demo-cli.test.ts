import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { celistra, CLI, scratch, type Scratch } from './worktree-fixture.js';

interface Escape {
  id: string;
  attempted: boolean;
  path: string;
  agentWrote: boolean;
  hostUnchanged: boolean;
  blocked: boolean;
}
interface DemoJson {
  ok: boolean;
  backend: { requested: string; autoPick: string | null; used: string | null };
  dir: string;
  kept: boolean;
  repo: string;
  tasks: { name: string; worktree: string; runStatus: number; backend: string; allowed: { action: string; ok: boolean }[]; escapes: Escape[] }[];
  pulls: { task: string; ok: boolean; outcome?: string }[];
  worktrees: { name: string; dirty: boolean }[];
  fleet: { skipped: string | null; daemonPid: number | null; dashboardUrl: string | null; agents: { name: string; answer: string; requestId: string | null; exitStatus: number | null; commits: string[]; ok: boolean }[]; failures: string[] };
  escapes: { attempted: number; blocked: number; escaped: number };
  failures: string[];
  seconds: number;
}

const ESCAPE_IDS = ['other-worktree', 'main-checkout', 'home', 'git-config'];

function demo(s: Scratch, args: string[], env: Record<string, string> = s.env) {
  const r = celistra(['demo', ...args], s.root, env);
  return { ...r, json: () => JSON.parse(r.stdout) as DemoJson };
}

/** The user's (here: the test's) home and Celistra state must stay untouched by the demo. */
function assertUserStateUntouched(s: Scratch): void {
  assert.deepEqual(readdirSync(s.env.HOME!), [], 'the demo wrote into the invoking user\'s HOME');
  assert.ok(!existsSync(s.env.XDG_STATE_HOME!), 'the demo wrote into the invoking user\'s Celistra state');
  assert.ok(!existsSync(s.env.XDG_CONFIG_HOME!), 'the demo wrote into the invoking user\'s config');
}

/** Running, not merely a zombie its new parent (init) has yet to reap. */
function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) [ZX]/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

function availableSandboxBackends(s: Scratch): string[] {
  const doctor = JSON.parse(celistra(['doctor', '--json'], s.root, s.env).stdout) as { backends: { backend: string; available: boolean }[] };
  return doctor.backends.filter((b) => b.available).map((b) => b.backend);
}

test('the demo fences both agents: each commits in its own worktree and every escape is blocked, verified on the host', () => {
  const s = scratch('demo');
  const dir = join(s.root, 'stage');
  const r = demo(s, ['--json', '--keep', '--dir', dir]);
  assert.equal(r.status, 0, r.stderr + r.stdout);
  const out = r.json();
  assert.equal(out.ok, true, out.failures.join('\n'));
  assert.ok(['landlock', 'bwrap', 'seatbelt'].includes(out.backend.used ?? ''), `a real sandbox backend ran: ${out.backend.used}`);
  assert.deepEqual(out.tasks.map((t) => t.name), ['task-1', 'task-2']);
  for (const t of out.tasks) {
    assert.equal(t.runStatus, 0);
    assert.deepEqual(t.allowed.map((a) => [a.action, a.ok]), [['edit', true], ['commit', true], ['pulled-into-main', true]]);
    assert.deepEqual(t.escapes.map((e) => e.id), ESCAPE_IDS);
    for (const e of t.escapes) {
      assert.equal(e.attempted, true, `${t.name} never tried ${e.path}`);
      assert.equal(e.hostUnchanged, true, `${t.name} changed ${e.path}`);
      assert.equal(e.agentWrote, false, `${t.name}'s write to ${e.path} should have failed inside the fence`);
      assert.equal(e.blocked, true);
    }
  }
  assert.deepEqual(out.escapes, { attempted: 8, blocked: 8, escaped: 0 });
  assert.deepEqual(out.pulls.map((p) => [p.task, p.ok, p.outcome]), [['task-1', true, 'fast-forward'], ['task-2', true, 'merge-commit']]);

  // The daemon act: one request approved, one denied; what each agent did is read on the host.
  assert.equal(out.fleet.skipped, null);
  assert.deepEqual(out.fleet.failures, []);
  assert.deepEqual(out.fleet.agents.map((a) => [a.name, a.answer, a.exitStatus, a.ok]), [['task-3', 'approve', 0, true], ['task-4', 'deny', 0, true]]);
  for (const a of out.fleet.agents) assert.match(a.requestId ?? '', /^[0-9a-f]{8}$/);
  assert.deepEqual(out.fleet.agents[0]!.commits, ['task-3: publish the release note', 'task-3: first step']);
  assert.deepEqual(out.fleet.agents[1]!.commits, ['task-4: first step']);
  assert.match(out.fleet.dashboardUrl ?? '', /^http:\/\/127\.0\.0\.1:\d+\/$/);
  assert.ok(out.fleet.daemonPid && !alive(out.fleet.daemonPid), 'the demo stopped its daemon');
  assert.ok(!existsSync(join(dir, 'project-task-4', 'RELEASE.md')), 'the denied agent wrote its guarded file anyway');
  assert.equal(readFileSync(join(dir, 'project-task-3', 'RELEASE.md'), 'utf8'), 'release note by task-3\n');

  // Independently of the demo's own report: the kept scratch world on disk.
  assert.equal(out.dir, dir);
  const repo = join(dir, 'project');
  assert.equal(readFileSync(join(repo, 'greeting.txt'), 'utf8'), 'hello\ntask-1 was here\n');
  assert.equal(readFileSync(join(repo, 'todo.txt'), 'utf8'), '- write the demo\ntask-2 was here\n');
  for (const f of [join(repo, 'README.md'), join(repo, '.git', 'config'), join(dir, 'project-task-1', 'README.md'), join(dir, 'project-task-2', 'README.md'), join(dir, 'home', 'canary.txt')]) {
    assert.doesNotMatch(readFileSync(f, 'utf8'), /tried to write here/, `${f} holds an agent's escaped line`);
  }
  assertUserStateUntouched(s);
});

test('each sandbox backend available here holds the fence in the demo', () => {
  const s = scratch('demo-backends');
  const backends = availableSandboxBackends(s);
  assert.ok(backends.length > 0, 'this machine has no sandbox backend: doctor says why');
  for (const backend of backends) {
    const r = demo(s, ['--json', '--backend', backend]);
    assert.equal(r.status, 0, `${backend}: ${r.stderr}${r.stdout}`);
    const out = r.json();
    assert.equal(out.backend.used, backend);
    assert.deepEqual(out.escapes, { attempted: 8, blocked: 8, escaped: 0 }, backend);
    assert.ok(out.tasks.every((t) => t.allowed.every((a) => a.ok)), `${backend}: allowed work failed`);
    assert.ok(!existsSync(out.dir), `${backend}: the scratch dir ${out.dir} was not removed`);
  }
  assertUserStateUntouched(s);
});

test('with --backend none the demo reports every escape and exits non-zero', () => {
  const s = scratch('demo-none');
  const r = demo(s, ['--json', '--backend', 'none']);
  assert.equal(r.status, 1, r.stderr);
  const out = r.json();
  assert.equal(out.ok, false);
  assert.equal(out.backend.used, 'none');
  assert.deepEqual(out.escapes, { attempted: 8, blocked: 0, escaped: 8 });
  for (const t of out.tasks) {
    for (const e of t.escapes) {
      assert.equal(e.hostUnchanged, false, `${e.path} should have changed with no fence`);
      assert.equal(e.blocked, false);
    }
  }
  assert.equal(out.failures.filter((f) => /ESCAPED/.test(f)).length, 8);
  assert.ok(!existsSync(out.dir), 'the scratch dir is removed even when the demo fails');
  assertUserStateUntouched(s);
});

test('the step-by-step tour says loudly when escapes got through', () => {
  const s = scratch('demo-none-text');
  const r = demo(s, ['--backend', 'none']);
  assert.equal(r.status, 1);
  assert.match(r.stdout, /WARNING: --backend none runs the agents UNSANDBOXED/);
  assert.match(r.stdout, /✗ ESCAPED into task-2's worktree/);
  assert.match(r.stdout, /!!! 8 of 8 escape attempts GOT THROUGH \(backend none\)/);
  assert.match(r.stdout, /✗ demo FAILED/);
});

test('the step-by-step tour shows each step and each blocked attempt', () => {
  const s = scratch('demo-text');
  const r = demo(s, []);
  assert.equal(r.status, 0, r.stderr + r.stdout);
  for (const step of [/\$ celistra worktree add task-1/, /\$ celistra run --worktree task-2 --backend auto/, /\$ celistra diff task-1/, /\$ celistra pull task-2/, /celistra worktree ls/, /\$ celistra daemon start/, /\$ celistra approve [0-9a-f]{8}/, /\$ celistra deny [0-9a-f]{8}/, /✓ task-3 approved/, /✓ task-4 denied/, /\$ celistra daemon stop --agents/]) {
    assert.match(r.stdout, step);
  }
  assert.equal((r.stdout.match(/✓ blocked by the kernel \((landlock|bwrap|seatbelt)\)/g) ?? []).length, 8);
  assert.match(r.stdout, /✓ demo passed in [\d.]+ s/);
  const dir = /removed the scratch dir (\S+)/.exec(r.stdout)?.[1];
  assert.ok(dir && !existsSync(dir), 'the scratch dir is named and removed');
});

test('with no usable sandbox backend the demo explains the fix and exits 67, creating nothing', () => {
  const s = scratch('demo-nobackend');
  const dir = join(s.root, 'stage');
  const env = { ...s.env, CELISTRA_LANDLOCK_FORCE_ABI: '0', CELISTRA_BWRAP: '/nonexistent/bwrap' };
  const r = demo(s, ['--dir', dir], env);
  assert.equal(r.status, 67, r.stderr);
  assert.match(r.stderr, /no sandbox backend is usable/);
  assert.match(r.stderr, /landlock: .*fix:/);
  assert.match(r.stderr, /celistra doctor/);
  assert.ok(!existsSync(dir), 'nothing was built');
});

test('a --dir that is not empty is refused and left as it was', () => {
  const s = scratch('demo-dir');
  const dir = join(s.root, 'busy');
  mkdirSync(dir);
  writeFileSync(join(dir, 'mine.txt'), 'keep me\n');
  const r = demo(s, ['--dir', dir]);
  assert.equal(r.status, 71, r.stderr);
  assert.match(r.stderr, /is not empty/);
  assert.deepEqual(readdirSync(dir), ['mine.txt']);
  assert.equal(readFileSync(join(dir, 'mine.txt'), 'utf8'), 'keep me\n');
});

test('an unknown option is refused with the usage exit status', () => {
  const s = scratch('demo-usage');
  const r = demo(s, ['--kep']);
  assert.equal(r.status, 64);
  assert.match(r.stderr, /unknown option --kep/);
});

/**
 * Run the tour in --dir DIR and send it one SIGINT as soon as its output matches `when`
 * (once: a second SIGINT after the demo's cleanup would meet the default action).
 */
async function interruptDemo(s: Scratch, dir: string, when: RegExp): Promise<{ stdout: string; stderr: string; status: number | null }> {
  const child = spawn(process.execPath, [CLI, 'demo', '--dir', dir], { cwd: s.root, env: s.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let interrupted = false;
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const status = await new Promise<number | null>((resolveExit) => {
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
      if (!interrupted && when.test(stdout)) {
        interrupted = true;
        child.kill('SIGINT');
      }
    });
    child.once('close', (code) => resolveExit(code));
  });
  return { stdout, stderr, status };
}

test('Ctrl-C during the tour removes the scratch dir', async () => {
  const s = scratch('demo-interrupt');
  const dir = join(s.root, 'stage');
  // Interrupt once the worktrees exist: there is then something to clean up.
  const { stdout, stderr, status } = await interruptDemo(s, dir, /2\. one worktree per task[\s\S]*✓ project-task-2/);
  assert.match(stdout, /✓ project-task-2/, 'the tour got as far as the worktrees');
  assert.equal(status, 130, stderr);
  assert.match(stderr, /demo interrupted by SIGINT; removed /);
  assert.ok(!existsSync(dir), 'the scratch dir is gone');
  // The agent that was running was stopped, not orphaned: nothing writes the dir back.
  await new Promise((r) => setTimeout(r, 500));
  assert.ok(!existsSync(dir), 'something recreated the scratch dir after the demo exited');
  assertUserStateUntouched(s);
});

test('Ctrl-C while the daemon\'s agents wait for a person stops the daemon with its agents and removes the scratch dir', async () => {
  const s = scratch('demo-interrupt-fleet');
  const dir = join(s.root, 'stage');
  const { stdout, stderr, status } = await interruptDemo(s, dir, /\$ celistra approvals\n/);
  assert.match(stdout, /\$ celistra approvals/, 'the tour got as far as the pending requests');
  assert.equal(status, 130, stderr);
  const daemonPid = Number(/celistrad runs \(pid (\d+)\)/.exec(stdout)?.[1]);
  assert.ok(daemonPid > 0 && !alive(daemonPid), 'the daemon outlived the interrupted demo');
  assert.ok(!existsSync(dir), 'the scratch dir is gone');
  await new Promise((r) => setTimeout(r, 500));
  assert.ok(!existsSync(dir), 'an agent recreated the scratch dir after the demo exited');
  assertUserStateUntouched(s);
});
