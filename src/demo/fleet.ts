import type { BackendChoice } from '../run/backend-selection.js';
import { git } from '../worktree/git.js';
import { hostView } from '../worktree/inspect.js';
import { findWorktree } from '../worktree/lifecycle.js';
import { runCelistra, type CliResult } from './celistra-cli.js';

/**
 * The demo's second act: the same kind of agents, now under the daemon. Two agents in two
 * new task worktrees each commit a first step, then ask a person before a second one; the
 * demo approves one request and denies the other, the way a user would (`celistra
 * approvals`, `approve`, `deny`), and checks on the host that only the approved agent made
 * its second commit. Everything runs through the real CLI in the demo's scratch world.
 */

export interface FleetAgentReport {
  name: string;
  /** What the demo answered to its request. */
  answer: 'approve' | 'deny';
  requestId: string | null;
  /** The agent's last line as `ctl ls` shows it. */
  lastLine: string;
  exitStatus: number | null;
  /** Subjects of the commits on its branch, newest first, read on the host. */
  commits: string[];
  ok: boolean;
}

export interface FleetReport {
  /** Not run (and why): e.g. the approval channel needs user namespaces on this backend. */
  skipped: string | null;
  daemonPid: number | null;
  dashboardUrl: string | null;
  agents: FleetAgentReport[];
  failures: string[];
}

const FLEET = [
  { name: 'task-3', answer: 'approve' as const },
  { name: 'task-4', answer: 'deny' as const },
];

/**
 * The fleet agent: commits its first step, asks through the approval channel the daemon
 * gave it (CELISTRA_APPROVALS names it; `celistra ask` is CELISTRA_CLI run by
 * CELISTRA_NODE), and makes its second commit only when a person approved.
 */
const FLEET_AGENT = `
task=$1
printf '%s: first step\\n' "$task" >> notes.txt && git add notes.txt && git commit -q -m "$task: first step" || exit 3
if [ -z "$CELISTRA_APPROVALS" ]; then echo "celistra-demo no approval channel"; exit 4; fi
if "$CELISTRA_NODE" "$CELISTRA_CLI" ask "$task: may I publish the release note?" --tool demo --timeout 120; then
  printf 'release note by %s\\n' "$task" > RELEASE.md && git add RELEASE.md && git commit -q -m "$task: publish the release note" || exit 3
  echo "celistra-demo approved"
else
  echo "celistra-demo denied"
fi
`;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface PendingRequest {
  id: string;
  agent: string;
  text: string;
}

interface AgentRow {
  name: string;
  state: string;
  lastLine: string;
  lastExit: { status: number } | null;
}

export interface FleetOptions {
  repo: string;
  env: Record<string, string>;
  backend: BackendChoice;
  say: (line: string) => void;
  stop: AbortSignal;
}

export async function fleetAct({ repo, env, backend, say, stop }: FleetOptions): Promise<FleetReport> {
  const report: FleetReport = { skipped: null, daemonPid: null, dashboardUrl: null, agents: [], failures: [] };
  const run = (args: string[]) => runCelistra(args, repo, env, stop);
  const must = async (args: string[]): Promise<string> => {
    const r = await run(args);
    if (stop.aborted) throw stop.reason;
    if (r.status !== 0) throw new Error(`celistra ${args.join(' ')} failed (${r.status}): ${(r.stderr || r.stdout).trim().split('\n').slice(0, 3).join(' / ')}`);
    return r.stdout;
  };

  say('   $ celistra daemon start --dashboard-port 0');
  await must(['daemon', 'start', '--dashboard-port', '0']);
  try {
    const status = JSON.parse(await must(['daemon', 'status', '--json'])) as { pid: number; dashboard?: { url: string | null } };
    report.daemonPid = status.pid;
    report.dashboardUrl = status.dashboard?.url ?? null;
    say(`   ✓ celistrad runs (pid ${status.pid}); agents outlive this terminal${report.dashboardUrl ? `; its dashboard: ${report.dashboardUrl} (log in with \`celistra dashboard\`)` : ''}`);
    for (const a of FLEET) {
      await must(['worktree', 'add', a.name]);
      say(`   $ celistra worktree add ${a.name} && celistra ctl spawn --worktree ${a.name} '<agent script>'`);
      await must(['ctl', 'spawn', '--worktree', a.name, '--backend', backend, '--json', '--', 'sh', '-c', FLEET_AGENT, 'celistra-demo-agent', a.name]);
    }

    const pending = await waitForRequests(run, FLEET.length, stop);
    const rows = await agentRows(run);
    const noChannel = rows.filter((r) => /no approval channel/.test(r.lastLine));
    if (noChannel.length) {
      report.skipped = 'the agents got no approval channel on this backend (it needs user namespaces; docs/approvals.md)';
      say(`   - approvals skipped: ${report.skipped}`);
      return report;
    }
    say('   $ celistra ctl ls');
    for (const line of (await must(['ctl', 'ls'])).trimEnd().split('\n')) say(`     ${line}`);
    say('   $ celistra approvals');
    for (const line of (await must(['approvals'])).trimEnd().split('\n')) say(`     ${line}`);
    for (const a of FLEET) {
      const req = pending.find((p) => p.agent === a.name);
      if (!req) {
        report.failures.push(`${a.name} never asked for approval`);
        continue;
      }
      const args = a.answer === 'approve' ? ['approve', req.id] : ['deny', req.id, '--reason', 'not in this release'];
      say(`   $ celistra ${args.map((x) => (/\s/.test(x) ? `"${x}"` : x)).join(' ')}`);
      say(`     ${(await must(args)).trim()}`);
    }

    const finished = await waitForExits(run, FLEET.map((a) => a.name), stop);
    for (const a of FLEET) {
      const row = finished.find((r) => r.name === a.name);
      const record = findWorktree(a.name, repo);
      const view = hostView(record);
      const commits = view.tip ? git(['log', '--format=%s', `${record.baseCommit}..${view.tip}`], view.read).trim().split('\n').filter(Boolean) : [];
      const published = commits.includes(`${a.name}: publish the release note`);
      const firstStep = commits.includes(`${a.name}: first step`);
      const ok = firstStep && (a.answer === 'approve' ? published : !published) && row?.lastExit?.status === 0;
      report.agents.push({
        name: a.name,
        answer: a.answer,
        requestId: pending.find((p) => p.agent === a.name)?.id ?? null,
        lastLine: row?.lastLine ?? '',
        exitStatus: row?.lastExit?.status ?? null,
        commits,
        ok,
      });
      const what = a.answer === 'approve'
        ? (published ? 'approved: it committed "publish the release note" after the answer (seen on the host)' : 'approved, but its second commit is missing on the host')
        : (published ? 'DENIED, yet its second commit is on the host' : 'denied: its branch holds only the first step (seen on the host)');
      say(`   ${ok ? '✓' : '✗'} ${a.name} ${what}`);
      if (!ok) report.failures.push(`${a.name}: ${what} (exit ${row?.lastExit?.status ?? 'none'}, last line "${row?.lastLine ?? ''}")`);
    }
    say('   $ celistra history --event approval');
    for (const line of (await must(['history', '--event', 'approval'])).trimEnd().split('\n')) say(`     ${line}`);
  } finally {
    // Not stopped by an interrupt: this is the clean-up after one.
    const stopped = await runCelistra(['daemon', 'stop', '--agents'], repo, env);
    say(stopped.status === 0 ? '   $ celistra daemon stop --agents   (the daemon and every agent it ran are gone)' : `   ✗ daemon stop failed: ${stopped.stderr.trim()}`);
    if (stopped.status !== 0) report.failures.push(`daemon stop --agents failed: ${stopped.stderr.trim()}`);
  }
  return report;
}

/**
 * Read `read()` every 200 ms until `done` says so or a minute has passed; the last reading
 * either way (the caller judges a timeout by what it shows).
 */
async function pollUntil<T>(read: () => Promise<T>, done: (value: T) => boolean | Promise<boolean>, stop: AbortSignal): Promise<T> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (stop.aborted) throw stop.reason;
    const value = await read();
    if ((await done(value)) || Date.now() > deadline) return value;
    await sleep(200);
  }
}

/** Poll `celistra approvals --json` until `count` requests wait (or every agent has ended). */
function waitForRequests(run: (a: string[]) => Promise<CliResult>, count: number, stop: AbortSignal): Promise<PendingRequest[]> {
  const pendingNow = async () => {
    const r = await run(['approvals', '--json']);
    return r.status === 0 ? (JSON.parse(r.stdout) as PendingRequest[]) : [];
  };
  const allEnded = async () => {
    const rows = await agentRows(run);
    return rows.length > 0 && rows.every((row) => row.state !== 'running' && !row.state.startsWith('waiting'));
  };
  return pollUntil(pendingNow, async (pending) => pending.length >= count || (await allEnded()), stop);
}

function waitForExits(run: (a: string[]) => Promise<CliResult>, names: string[], stop: AbortSignal): Promise<AgentRow[]> {
  return pollUntil(() => agentRows(run), (rows) => names.every((n) => rows.find((r) => r.name === n)?.state === 'exited'), stop);
}

async function agentRows(run: (a: string[]) => Promise<CliResult>): Promise<AgentRow[]> {
  const r = await run(['ctl', 'ls', '--json']);
  return r.status === 0 ? (JSON.parse(r.stdout) as AgentRow[]) : [];
}
