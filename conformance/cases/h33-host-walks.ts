import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Case, CaseContext, CustomResult } from '../case.js';
import { ownTaskWorktree } from '../own-task-worktree.js';

/**
 * Host-side walks over a tree the agent is still writing never follow a link it swaps in
 * mid-walk. Inside the fence, the agent exchanges a directory of its worktree (and one of
 * its private TMPDIR) with a symlink to a victim directory outside, in a loop
 * (renameat2 RENAME_EXCHANGE). Meanwhile the host runs `celistra worktree rm --force`
 * (refused: the worktree is leased to the running agent), `diff`, `worktree ls` and
 * `pull`; after the run, `worktree rm --force` over whatever the swaps left, and the
 * private tmp's clean-up (in Node for a task worktree; in the exec helper for a plain
 * workspace, with a swapper that tries to outlive the run). The victim must keep every
 * file and byte, and its secret must not appear in anything the host printed.
 */

const SWAP = String.raw`
import ctypes, os, sys, time
libc = ctypes.CDLL(None, use_errno=True)
AT_FDCWD, RENAME_EXCHANGE = -100, 2
base, victim, secs = sys.argv[1], sys.argv[2], float(sys.argv[3])
d, l = os.path.join(base, 'conf33-dir'), os.path.join(base, 'conf33-link')
if not os.path.lexists(d):
    os.makedirs(os.path.join(d, 'sub'))
    for i in range(40):
        open(os.path.join(d, 'f%d' % i), 'w').write('agent file %d\n' % i)
        open(os.path.join(d, 'sub', 'g%d' % i), 'w').write('agent file %d\n' % i)
if not os.path.lexists(l):
    os.symlink(victim, l)
print('swapping', flush=True)
end, n = time.time() + secs, 0
while time.time() < end:
    if libc.renameat2(AT_FDCWD, d.encode(), AT_FDCWD, l.encode(), RENAME_EXCHANGE) == 0:
        n += 1
print('swapped %d times' % n, flush=True)
`;

const SWAP_SECONDS = 6;

function victimState(dir: string): string {
  const lines: string[] = [];
  const walk = (p: string, rel: string) => {
    for (const name of readdirSync(p).sort()) {
      const full = join(p, name);
      const st = lstatSync(full);
      if (st.isDirectory()) {
        lines.push(`${rel}${name}/`);
        walk(full, `${rel}${name}/`);
      } else lines.push(`${rel}${name} ${st.size} ${createHash('sha256').update(readFileSync(full)).digest('hex').slice(0, 16)}`);
    }
  };
  walk(dir, '');
  return lines.join('\n');
}

function makeVictim(dir: string, secret: string): void {
  mkdirSync(join(dir, 'sub'), { recursive: true });
  for (let i = 0; i < 40; i++) {
    writeFileSync(join(dir, `v${i}`), `${secret} ${i}\n`);
    writeFileSync(join(dir, 'sub', `w${i}`), `${secret} sub ${i}\n`);
  }
}

function waitForLine(child: ChildProcess, text: string, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    let said = '';
    const timer = setTimeout(() => resolve(false), ms);
    child.stdout!.on('data', (d: Buffer) => {
      said += d.toString();
      if (said.includes(text)) {
        clearTimeout(timer);
        resolve(true);
      }
    });
    child.on('close', () => resolve(said.includes(text)));
  });
}

async function check(ctx: CaseContext): Promise<CustomResult[]> {
  const s = ctx.stage;
  const own = ownTaskWorktree(ctx, 'conf33');
  if ('error' in own) return [{ name: 'set up a task worktree', expect: 'allow', outcome: 'denied', detail: own.error }];
  const { base, wt, env, cli } = own;
  const victim = join(base, 'victim');
  const secret = `CONF33-SECRET-${createHash('sha256').update(s.tag).digest('hex').slice(0, 12)}`;
  makeVictim(victim, secret);
  const before = victimState(victim);
  writeFileSync(join(wt, 'conf33-swap.py'), SWAP);
  // The swapped directory is tracked work of the task, as an agent's source dir would be.
  const prep = cli('run', '--backend', ctx.backend, '--workspace', wt, '--', 'sh', '-c', `python3 conf33-swap.py . ${victim} 0 && git add conf33-dir conf33-swap.py && git commit -qm 'conf33: tree'`);
  if (prep.status !== 0) return [{ name: "the agent's own git work", expect: 'allow', outcome: 'denied', detail: prep.stderr.trim().slice(-300) }];

  const results: CustomResult[] = [];
  const printed: string[] = [];
  const damaged = () => (victimState(victim) !== before ? 'the victim directory outside changed' : undefined);

  // 1. While the agent swaps in its worktree and its TMPDIR.
  const agent = spawn(process.execPath, [ctx.cli, 'run', '--backend', ctx.backend, '--workspace', wt, '--', 'sh', '-c', `python3 conf33-swap.py "$TMPDIR" ${victim} ${SWAP_SECONDS} & python3 conf33-swap.py . ${victim} ${SWAP_SECONDS}; wait`], { cwd: wt, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const closed = new Promise<number | null>((r) => agent.on('close', (code) => r(code)));
  const swapping = await waitForLine(agent, 'swapping', 15_000);
  const rmRefusals: string[] = [];
  let rounds = 0;
  const until = Date.now() + (SWAP_SECONDS - 1) * 1000;
  while (swapping && Date.now() < until) {
    rounds++;
    const rm = cli('worktree', 'rm', 't', '--force');
    if (rm.status !== 71) rmRefusals.push(`exit ${rm.status}: ${rm.stderr.trim().slice(0, 160)}`);
    for (const args of [['diff', 't'], ['worktree', 'ls', '--json'], ['pull', 't']]) {
      const r = cli(...args);
      printed.push(r.stdout, r.stderr);
    }
  }
  await closed;
  if (!swapping) return [{ name: 'the agent swaps a directory for a symlink in a loop', expect: 'allow', outcome: 'denied', detail: 'the swapper never started' }];
  results.push({
    name: '`worktree rm --force` while the agent swaps is refused, the worktree being leased',
    expect: 'supervisor',
    outcome: rmRefusals.length === 0 && existsSync(wt) && !damaged() ? 'held' : 'escaped',
    detail: rmRefusals.length ? rmRefusals.join('; ') : damaged() ?? `refused (exit 71) in all ${rounds} tries`,
  });
  const leaked = printed.some((p) => p.includes(secret));
  results.push({
    name: '`diff`, `worktree ls` and `pull` while the agent swaps neither change nor read the victim through the link',
    expect: 'supervisor',
    outcome: leaked || damaged() ? 'escaped' : 'held',
    detail: leaked ? "the victim's secret appeared in the host's output (read through the link)" : damaged() ?? `${rounds} rounds during the swaps`,
  });
  results.push({
    name: "the private TMPDIR's clean-up after a run that swapped in it",
    expect: 'supervisor',
    outcome: damaged() ? 'escaped' : 'held',
    detail: damaged() ?? 'victim unchanged',
  });

  // 2. After the run: whatever the swaps left (a symlink where a directory was) is removed, never followed.
  const rm = cli('worktree', 'rm', 't', '--force');
  results.push({
    name: '`worktree rm --force` after the run removes the links the agent left, not their targets',
    expect: 'supervisor',
    outcome: damaged() ? 'escaped' : rm.status === 0 && !existsSync(wt) ? 'held' : 'denied',
    detail: damaged() ?? (rm.status === 0 ? 'worktree removed, victim unchanged' : rm.stderr.trim().slice(0, 300)),
  });

  // 3. A plain workspace: the run may hand itself over to the exec helper, which then cleans
  // TMPDIR; the swapper tries to outlive the command.
  const plain = join(base, 'plain');
  mkdirSync(plain);
  writeFileSync(join(plain, 'conf33-swap.py'), SWAP);
  const handed = spawnSync(process.execPath, [ctx.cli, 'run', '--backend', ctx.backend, '--workspace', plain, '--', 'sh', '-c', `setsid python3 conf33-swap.py "$TMPDIR" ${victim} 3 >/dev/null 2>&1 & sleep 0.5; echo left`], { cwd: plain, env, encoding: 'utf8', timeout: 30_000 });
  await new Promise((r) => setTimeout(r, 3500));
  results.push({
    name: "the private TMPDIR's clean-up when the run handed itself to the exec helper and a swapper tried to outlive it",
    expect: 'supervisor',
    outcome: damaged() ? 'escaped' : 'held',
    detail: damaged() ?? `victim unchanged (run exit ${handed.status})`,
  });
  return results;
}

const c: Case = {
  id: '33',
  title: 'host-side walks (worktree rm, diff, ls, pull, the private tmp clean-up) never follow a link the agent swaps in mid-walk',
  section: 'H',
  expect: 'supervisor',
  custom: check,
};
export default c;
