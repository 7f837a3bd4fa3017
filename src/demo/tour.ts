import { readFileSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { join, relative } from 'node:path';
import { autoBackendName, backendByName, SANDBOX_BACKENDS, type BackendChoice } from '../run/backend-selection.js';
import { runAgent, type AgentRun, type EscapeTarget } from './agent.js';
import { fingerprint, sameFingerprint } from './fingerprint.js';
import { fleetAct, type FleetReport } from './fleet.js';
import { createStage, PROJECT_FILES, removeStage, type DemoStage } from './stage.js';
import { CelistraError, isCelistraError } from '../policy/errors.js';
import { git } from '../worktree/git.js';
import { hostView, worktreeDiff } from '../worktree/inspect.js';
import { pullWorktree, type PullResult } from '../worktree/pull.js';
import type { WorktreeRecord } from '../worktree/record.js';
import { addWorktree, listWorktrees, type WorktreeListing } from '../worktree/lifecycle.js';

export interface DemoOptions {
  /** Where to build the scratch world (default: a new temp dir). */
  dir?: string;
  keep: boolean;
  backend: BackendChoice;
  /** One line per step, for a person; the JSON mode passes a no-op. */
  progress: (line: string) => void;
}

/** Something the agent is allowed to do, checked on the host afterwards. */
export interface AllowedCheck {
  action: 'edit' | 'commit' | 'pulled-into-main';
  ok: boolean;
  detail: string;
}

export interface EscapeCheck {
  id: string;
  label: string;
  path: string;
  /** The agent reported making this attempt; without that report "blocked" would claim too much. */
  attempted: boolean;
  /** What the agent reported (informative only). */
  agentWrote: boolean;
  agentMessage: string;
  /** Type, mode, size, mtime and content of the host file are as before the agent ran. */
  hostUnchanged: boolean;
  /** The verdict: the attempt was made and the host file is unchanged. */
  blocked: boolean;
}

export interface TaskReport {
  name: string;
  worktree: string;
  branch: string;
  command: string[];
  runStatus: number;
  backend: string | null;
  commit: string | null;
  allowed: AllowedCheck[];
  escapes: EscapeCheck[];
}

export interface PullReport {
  task: string;
  ok: boolean;
  outcome?: PullResult['outcome'];
  into?: string;
  commit?: string;
  error?: string;
}

export interface DemoResult {
  /** Every allowed action happened and every escape was blocked, verified on the host. */
  ok: boolean;
  backend: { requested: BackendChoice; autoPick: string | null; used: string | null };
  dir: string;
  kept: boolean;
  repo: string;
  tasks: TaskReport[];
  diffs: { task: string; stat: string; patch: string }[];
  pulls: PullReport[];
  worktrees: WorktreeListing[];
  /** The second act: agents under the daemon, one request approved and one denied. */
  fleet: FleetReport;
  /** Attempts the agents reported; of those, blocked (host unchanged); and host files that changed. */
  escapes: { attempted: number; blocked: number; escaped: number };
  /** One line per thing that went wrong; empty when ok. */
  failures: string[];
  seconds: number;
}

interface TaskPlan {
  name: string;
  file: string;
  commitMessage: string;
}

const TASKS: TaskPlan[] = [
  { name: 'task-1', file: 'greeting.txt', commitMessage: 'task-1: say hello from the first agent' },
  { name: 'task-2', file: 'todo.txt', commitMessage: 'task-2: add to the todo list from the second agent' },
];

/**
 * Fail before building anything when the requested backend cannot run here, with the
 * fixes `celistra doctor` would show. Returns `auto`'s pick on this machine.
 */
export function requireUsableBackend(choice: BackendChoice): string | null {
  const autoPick = autoBackendName() ?? null;
  if (choice === 'auto' && !autoPick) {
    const why = SANDBOX_BACKENDS.map((b) => b.probe()).map((c) => `${c.backend}: ${c.unavailableReason ?? 'unavailable'}${c.fix ? ` (fix: ${c.fix})` : ''}`);
    throw new CelistraError(
      'E_NO_BACKEND',
      `no sandbox backend is usable on this machine, so there is nothing to demonstrate:\n  ${why.join('\n  ')}`,
      '`celistra doctor` shows the details; after the fix, run `celistra demo` again',
    );
  }
  if (choice !== 'auto') {
    const caps = backendByName(choice).probe();
    if (!caps.available) {
      throw new CelistraError('E_NO_BACKEND', `backend ${choice} is not usable here: ${caps.unavailableReason ?? 'unknown reason'}`, caps.fix ?? '`celistra doctor` shows what is missing');
    }
  }
  return autoPick;
}

export async function runDemo(opts: DemoOptions): Promise<DemoResult> {
  const started = performance.now();
  const say = opts.progress;
  const autoPick = requireUsableBackend(opts.backend);
  say(opts.backend === 'auto'
    ? `backend: auto picks ${autoPick} on this machine (as \`celistra doctor\` reports)`
    : `backend: ${opts.backend} (requested; \`celistra doctor\` would pick ${autoPick ?? 'none'})`);
  const stage = createStage(opts.dir);
  say(`scratch dir: ${stage.root} (its own HOME and Celistra state; your real home is not touched)`);
  const restoreEnv = useEnvironment(stage.env);
  // Ctrl-C (or a SIGTERM) mid-tour stops the running agent first, so that nothing writes
  // into the scratch dir after it is removed, and leaves no scratch repository behind.
  const abort = new AbortController();
  let interruptedBy: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    interruptedBy = signal;
    abort.abort();
  };
  for (const sig of INTERRUPTS) process.on(sig, onSignal);
  let result: DemoResult | undefined;
  try {
    result = await tour(stage, opts, autoPick, abort.signal);
  } catch (e) {
    if (!interruptedBy) throw e;
  } finally {
    for (const sig of INTERRUPTS) process.off(sig, onSignal);
    restoreEnv();
    if (!opts.keep) removeStage(stage);
  }
  if (interruptedBy) throw new DemoInterrupted(interruptedBy, stage.root, opts.keep);
  result!.seconds = Math.round((performance.now() - started) / 10) / 100;
  return result!;
}

const INTERRUPTS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/** The tour stopped on a signal; the scratch dir is already removed unless kept. */
export class DemoInterrupted extends Error {
  readonly signal: NodeJS.Signals;
  /** The exit status a shell expects after this signal: 128 + its number. */
  readonly status: number;
  constructor(signal: NodeJS.Signals, readonly dir: string, readonly kept: boolean) {
    super(`demo interrupted by ${signal}; ${kept ? `kept ${dir}` : `removed ${dir}`}`);
    this.signal = signal;
    this.status = 128 + (osConstants.signals[signal] ?? 0);
  }
}

async function tour(stage: DemoStage, opts: DemoOptions, autoPick: string | null, stop: AbortSignal): Promise<DemoResult> {
  const say = opts.progress;
  const failures: string[] = [];
  const rel = (p: string) => relative(stage.root, p) || '.';

  say('');
  say(`1. a scratch project: ${rel(stage.repo)} with ${Object.keys(PROJECT_FILES).join(', ')}, one commit on main`);

  say('');
  say('2. one worktree per task');
  const records = new Map<string, WorktreeRecord>();
  for (const t of TASKS) {
    say(`   $ celistra worktree add ${t.name}`);
    const { record } = addWorktree({ name: t.name, repo: stage.repo });
    records.set(t.name, record);
    say(`   ✓ ${rel(record.path)} on branch ${record.branch}`);
  }

  say('');
  say(opts.backend === 'none'
    ? '3. an agent in each worktree, UNSANDBOXED (--backend none): its escapes should get through, and the demo must say so'
    : '3. an agent in each worktree, fenced by the kernel: it commits its work, then tries to break out');
  const tasks: TaskReport[] = [];
  for (const t of TASKS) {
    const record = records.get(t.name)!;
    const other = TASKS.find((x) => x.name !== t.name)!;
    const escapes: EscapeTarget[] = [
      { id: 'other-worktree', label: `${other.name}'s worktree`, path: join(records.get(other.name)!.path, 'README.md') },
      { id: 'main-checkout', label: "main's checkout", path: join(stage.repo, 'README.md') },
      { id: 'home', label: 'a canary in $HOME', path: stage.canary },
      { id: 'git-config', label: "main's .git/config", path: join(stage.repo, '.git', 'config') },
    ];
    const before = escapes.map((e) => fingerprint(e.path));
    const run = await runAgent({
      task: t.name,
      repo: stage.repo,
      file: t.file,
      commitMessage: t.commitMessage,
      escapes,
      backend: opts.backend,
      env: stage.env,
    }, stop);
    if (stop.aborted) throw stop.reason;
    say(`   $ ${run.argv.join(' ')}`);
    if (run.status === 67) {
      throw new CelistraError('E_NO_BACKEND', `celistra run refused to start the agent: ${firstLines(run.stderr)}`, '`celistra doctor` shows what is missing and how to fix it');
    }
    say(`   backend: ${run.backend ?? 'unknown'}${opts.backend === 'auto' ? ' (auto)' : ''}`);
    const report = checkTask(t, record, run, escapes, before);
    for (const a of report.allowed) say(`   ${a.ok ? '✓' : '✗'} ${a.detail}`);
    for (const e of report.escapes) say(`   ${e.blocked ? '✓' : '✗'} ${describeEscape(e, rel(e.path), report.backend)}`);
    if (run.status !== 0) failures.push(`agent ${t.name} exited with status ${run.status}: ${firstLines(run.stderr)}`);
    for (const a of report.allowed) if (!a.ok) failures.push(`${t.name}: ${a.detail}`);
    for (const e of report.escapes) {
      if (!e.hostUnchanged) failures.push(`${t.name} ESCAPED into ${e.label}: ${e.path} changed on the host`);
      else if (!e.attempted) failures.push(`${t.name} never reported its attempt on ${e.label}, so the fence was not tested there`);
    }
    tasks.push(report);
  }

  say('');
  say('4. review each task: celistra diff');
  const diffs: DemoResult['diffs'] = [];
  for (const t of TASKS) {
    const view = hostView(records.get(t.name)!);
    const stat = worktreeDiff(view, true);
    const patch = worktreeDiff(view, false);
    diffs.push({ task: t.name, stat, patch });
    say(`   $ celistra diff ${t.name}`);
    for (const line of patch.trimEnd().split('\n')) say(`     ${line}`);
  }

  say('');
  say('5. bring both home: celistra pull');
  const pulls: PullReport[] = [];
  for (const t of TASKS) {
    say(`   $ celistra pull ${t.name}`);
    try {
      const r = pullWorktree(records.get(t.name)!, 'merge');
      pulls.push({ task: t.name, ok: true, outcome: r.outcome, into: r.into, commit: r.commit });
      say(`   ✓ ${r.branch} → ${r.into}: ${r.outcome} (${r.commit.slice(0, 12)})`);
    } catch (e) {
      if (!isCelistraError(e)) throw e;
      pulls.push({ task: t.name, ok: false, error: e.message });
      failures.push(`pull ${t.name} failed: ${e.message}`);
      say(`   ✗ pull refused: ${e.message}`);
    }
  }
  for (const t of TASKS) {
    const pulled = pulls.find((p) => p.task === t.name)!;
    const inMain = readFileSync(join(stage.repo, t.file), 'utf8').includes(`${t.name} was here\n`);
    const check: AllowedCheck = {
      action: 'pulled-into-main',
      ok: pulled.ok && inMain,
      detail: inMain ? `${t.file} in main has ${t.name}'s line` : `${t.file} in main lacks ${t.name}'s line`,
    };
    tasks.find((r) => r.name === t.name)!.allowed.push(check);
    if (!check.ok && pulled.ok) failures.push(`${t.name}: ${check.detail}`);
  }
  say(`   main's log now: ${git(['log', '--format=%s', '-3'], { cwd: stage.repo }).trim().split('\n').join(' | ')}`);

  say('');
  say('6. where things stand: celistra worktree ls');
  const worktrees = listWorktrees(stage.repo);
  for (const line of renderListing(worktrees)) say(`   ${line}`);

  say('');
  say('7. the daemon: agents that outlive the terminal, and a person who approves');
  const fleet = await fleetAct({ repo: stage.repo, env: stage.env, backend: opts.backend, say, stop });
  failures.push(...fleet.failures);

  const all = tasks.flatMap((t) => t.escapes);
  const used = tasks.map((t) => t.backend).find((b) => b !== null) ?? null;
  return {
    ok: failures.length === 0,
    backend: { requested: opts.backend, autoPick, used },
    dir: stage.root,
    kept: opts.keep,
    repo: stage.repo,
    tasks,
    diffs,
    pulls,
    worktrees,
    fleet,
    escapes: { attempted: all.filter((e) => e.attempted).length, blocked: all.filter((e) => e.blocked).length, escaped: all.filter((e) => !e.hostUnchanged).length },
    failures,
    seconds: 0,
  };
}

function checkTask(t: TaskPlan, record: WorktreeRecord, run: AgentRun, escapes: EscapeTarget[], before: ReturnType<typeof fingerprint>[]): TaskReport {
  const edited = readFileSync(join(record.path, t.file), 'utf8').includes(`${t.name} was here\n`);
  const view = hostView(record);
  const subject = view.tip && view.tip !== record.baseCommit ? git(['log', '-1', '--format=%s', view.tip], view.read).trim() : null;
  const committed = subject === t.commitMessage && view.tip === run.committed;
  const allowed: AllowedCheck[] = [
    { action: 'edit', ok: edited, detail: edited ? `edited ${t.file} in its worktree (seen on the host)` : `${t.file} in the worktree does not have the agent's line` },
    {
      action: 'commit',
      ok: committed,
      detail: committed
        ? `committed "${t.commitMessage}" on ${record.branch} (${view.tip!.slice(0, 12)}, seen on the host)`
        : `no commit "${t.commitMessage}" on ${record.branch} (host sees ${view.tip?.slice(0, 12) ?? 'no branch'})`,
    },
  ];
  const checks = escapes.map((e, i): EscapeCheck => {
    const said = run.attempts.find((a) => a.id === e.id);
    const hostUnchanged = sameFingerprint(before[i]!, fingerprint(e.path));
    return {
      id: e.id,
      label: e.label,
      path: e.path,
      attempted: said !== undefined,
      agentWrote: said?.wrote ?? false,
      agentMessage: said ? (said.wrote ? 'write succeeded' : said.message) : 'no report from the agent',
      hostUnchanged,
      blocked: said !== undefined && hostUnchanged,
    };
  });
  return { name: t.name, worktree: record.path, branch: record.branch, command: run.argv, runStatus: run.status, backend: run.backend, commit: view.tip ?? null, allowed, escapes: checks };
}

function describeEscape(e: EscapeCheck, shown: string, backend: string | null): string {
  if (!e.hostUnchanged) return `ESCAPED into ${e.label} (${shown}): the file on the host changed`;
  if (!e.attempted) return `NOT TESTED: the agent never reported its write into ${e.label} (${shown})`;
  if (e.agentWrote) return `contained: write into ${e.label} (${shown}) landed in the sandbox's private view; the host file is unchanged`;
  return `blocked by the kernel (${backend ?? 'unknown backend'}): write into ${e.label} (${shown}) — agent got "${e.agentMessage}"; host file unchanged`;
}

function renderListing(rows: WorktreeListing[]): string[] {
  const table = [['NAME', 'BRANCH', 'AHEAD', 'DIRTY', 'UNHARVESTED'], ...rows.map((r) => [r.name, r.branch, String(r.ahead ?? '-'), r.dirty === null ? '-' : r.dirty ? 'yes' : 'no', String(r.unharvested ?? '-')])];
  const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
  return table.map((row) => row.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd());
}

function firstLines(s: string): string {
  return s.trim().split('\n').filter((l) => !l.startsWith('celistra: backend ')).slice(0, 3).join(' / ') || '(no message)';
}

/**
 * Host-side git (worktree add, diff, pull) reads HOME's git config and needs an identity
 * for merge commits: for the demo's duration it sees the scratch home and a fixed identity.
 */
function useEnvironment(env: Record<string, string>): () => void {
  const saved = new Map(Object.keys(env).map((k) => [k, process.env[k]] as const));
  Object.assign(process.env, env);
  return () => {
    for (const [k, v] of saved) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
}
