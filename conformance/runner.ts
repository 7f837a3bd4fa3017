import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { userInfo } from 'node:os';
import { allEnforced, type Backend, type Capabilities } from '../src/backends/backend.js';
import { expandHome } from '../src/policy/policy.js';
import { PRESETS } from '../src/policy/presets/catalog.js';
import { StageRefused } from './stage-refused.js';
import type { Attempt, AttemptOutput, Case, CaseContext, Expectation, Launch, Section } from './case.js';
import { FencedSession, type SessionTarget } from './fenced-session.js';
import { agentOwnChanges, protectedWatches } from './protected-paths.js';
import { diffSnapshots, takeSnapshot } from './snapshot.js';
import { spawnsRecorded, supervisorFilesStamp } from './supervisor-writes.js';
import { buildStage, destroyStage, type Stage } from './stage.js';
import { promiseFor, statusOf, worst, type Observed, type Promised, type Status } from './verdict.js';
import { startWitnesses, type Witnesses } from './witnesses.js';
import { undoOnInterrupt } from './interrupt-cleanup.js';

export interface AttemptReport {
  name: string;
  via?: string;
  expect: Expectation;
  promise: Promised;
  observed: Observed;
  status: Status;
  /** Why the host judged as it did: changed paths, leaked secrets, events, output. */
  evidence: string[];
}

export interface CaseReport {
  id: string;
  title: string;
  section: Section;
  status: Status;
  /** The declared gap reasons behind any gap status. */
  gaps: string[];
  attempts: AttemptReport[];
}

export interface BackendReport {
  backend: string;
  available: boolean;
  unavailableReason?: string;
  user: string;
  cases: CaseReport[];
  ms: number;
}

const CLI = fileURLToPath(new URL('../../bin/celistra.js', import.meta.url));
const DRIVER = fileURLToPath(new URL('./driver.js', import.meta.url));
const CASES_DIR = new URL('./cases/', import.meta.url);

/** Every case file under conformance/cases (a case is one file; a file may hold a small group). */
export async function loadCases(): Promise<Case[]> {
  const files = readdirSync(CASES_DIR).filter((f) => f.endsWith('.js')).sort();
  const cases: Case[] = [];
  for (const f of files) {
    let mod: { default: Case | Case[] };
    try {
      mod = (await import(new URL(f, CASES_DIR).href)) as { default: Case | Case[] };
    } catch (e) {
      // The real-agent cases (G29) drive claude and codex with the scripted models kept in
      // test/support, which an installed package does not ship: said, never silent.
      if ((e as NodeJS.ErrnoException).code !== 'ERR_MODULE_NOT_FOUND') throw e;
      process.stderr.write(`celistra: conformance: case file ${f} needs a development checkout (${(e as Error).message.split('\n')[0]}): not run\n`);
      continue;
    }
    cases.push(...(Array.isArray(mod.default) ? mod.default : [mod.default]));
  }
  return cases.sort((a, b) => a.id.localeCompare(b.id, 'en', { numeric: true }));
}

/** Comma-separated globs (`*`, `?`); a case matches when one matches its id or its title. */
export function matchesGlob(c: Case, globs: string): boolean {
  return globs.split(',').some((glob) => {
    const body = [...glob.trim()].map((ch) => (ch === '*' ? '.*' : ch === '?' ? '.' : ch.replace(/[.+^${}()|[\]\\]/g, '\\$&'))).join('');
    const re = new RegExp(`^${body}$`, 'i');
    return re.test(c.id) || re.test(c.title);
  });
}

function tail(s: string, n = 300): string {
  const t = s.trim().replace(/\s*\n\s*/g, ' | ');
  return t.length > n ? `…${t.slice(-n)}` : t;
}

interface Judge {
  stage: Stage;
  witnesses: Witnesses;
  caps: Capabilities;
  /** Writable roots the launch adds beyond the workspace (a preset's state dirs). */
  granted: string[];
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function judgeAttempt(j: Judge, session: FencedSession | { refused: string }, a: Attempt, caseExpect: Expectation): Promise<AttemptReport> {
  const expect = a.expect ?? caseExpect;
  const promise = promiseFor(expect, j.caps);
  const base = { name: a.name, via: a.via, expect, promise };
  if (a.hazard && promise.mode !== 'deny') {
    return { ...base, observed: 'skipped', status: statusOf(promise, 'skipped'), evidence: [`not attempted: ${a.hazard}`] };
  }
  if ('refused' in session) {
    return { ...base, observed: 'error', status: 'ERROR', evidence: [session.refused] };
  }
  const watches = protectedWatches(j.stage);
  const before = takeSnapshot(watches);
  const eventsBefore = j.witnesses.events.length;
  const out: AttemptOutput = await session.attempt(a.via, a.script, a.timeoutMs ?? 15_000);
  if (a.settleMs) await sleep(a.settleMs);
  a.afterHost?.();
  const after = takeSnapshot(watches);
  const changes = diffSnapshots(before, after, agentOwnChanges(j.stage, j.granted));
  const events = j.witnesses.events.slice(eventsBefore);
  const text = out.stdout + out.stderr;
  const leaks = (a.secrets ?? []).filter((s) => text.includes(s)).map((s) => `secret leaked into the attempt's output: ${s.slice(0, 28)}…`);
  const inspected = a.inspectDriver?.(session.driverPid) ?? [];
  const breach = [...changes.slice(0, 8), ...(changes.length > 8 ? [`… ${changes.length - 8} more changes`] : []), ...events, ...leaks, ...inspected];
  const outcome = `exit ${out.timedOut ? 'timeout' : out.status}${text.trim() ? `: ${tail(text)}` : ''}`;
  let observed: Observed;
  const evidence = [...breach];
  if (breach.length) {
    observed = 'escaped';
    evidence.push(`attempt ${outcome}`);
  } else if (out.lost) {
    observed = 'error';
    evidence.push(out.lost);
  } else if (promise.mode === 'allow') {
    const missing = out.status !== 0 || out.timedOut ? `the work failed (${outcome})` : a.verify?.(out);
    observed = missing ? 'denied' : 'worked';
    if (missing) evidence.push(missing);
  } else {
    observed = 'held';
    if (out.status === 0 && !out.timedOut) evidence.push(`attempt claimed success but nothing outside changed (${outcome})`);
    else evidence.push(`attempt ${outcome}`);
  }
  return { ...base, observed, status: statusOf(promise, observed), evidence: evidence.map((e) => e.split(j.stage.root).join('<stage>')) };
}

/**
 * `celistra run` records each launch (in the audit spool or log, in the state dir) a
 * moment after the command starts. Wait for the records of this case's launches (the other
 * agent and the driver), then for the supervisor's files to stop moving, so no attempt is
 * blamed for the supervisor's own writes.
 */
async function supervisorQuiet(stage: Stage, launches: number, maxMs = 10_000): Promise<void> {
  const deadline = Date.now() + maxMs;
  while (spawnsRecorded(stage) < launches && Date.now() < deadline) await sleep(50);
  let last = supervisorFilesStamp(stage);
  while (Date.now() < deadline) {
    await sleep(150);
    const now = supervisorFilesStamp(stage);
    if (now === last) return;
    last = now;
  }
}

function caseReport(c: Case, attempts: AttemptReport[]): CaseReport {
  const status = worst(attempts.map((a) => a.status));
  const gaps = [...new Set(attempts.flatMap((a) => (a.promise.mode === 'gap' ? [`${a.expect}: ${a.promise.reason}`] : [])))];
  return { id: c.id, title: c.title, section: c.section, status, gaps, attempts };
}

function grantedBy(launch: Launch, stage: Stage): string[] {
  const preset = launch.preset ? PRESETS[launch.preset] : undefined;
  // A state dir's base is created by Celistra itself on the first launch, beside the agent's own dir in it.
  const dirs = [...(preset?.writableDirs ?? []), ...(preset?.stateDir ? [preset.stateDir.base] : [])];
  return dirs.map((d) => expandHome(d, stage.home));
}

async function runCustom(c: Case, ctx: CaseContext, caps: Capabilities): Promise<AttemptReport[]> {
  const promise = promiseFor(c.expect, caps);
  try {
    const results = await c.custom!(ctx);
    return results.map((r) => {
      const expect = r.expect ?? c.expect;
      const p = promiseFor(expect, caps);
      const observed: Observed = r.outcome === 'held' ? (p.mode === 'allow' ? 'worked' : 'held') : r.outcome;
      return { name: r.name, expect, promise: p, observed, status: statusOf(p, observed), evidence: [r.detail] };
    });
  } catch (e) {
    return [{ name: 'custom check', expect: c.expect, promise, observed: 'error', status: 'ERROR', evidence: [(e as Error).message] }];
  }
}

export interface RunOptions {
  /** Judge as if the backend enforced every guarantee: shows what each declared gap lets through. */
  strict?: boolean;
  onCase?: (r: CaseReport) => void;
}

function currentUser(): string {
  try {
    return userInfo().username;
  } catch {
    return String(process.getuid?.() ?? '?');
  }
}

/**
 * One case, on a stage of its own (an escape in one case cannot disturb the next):
 * the witnesses, then its attempts through one fenced driver, then its custom checks.
 */
async function runCase(c: Case, target: SessionTarget, caps: Capabilities): Promise<CaseReport> {
  const stage = buildStage();
  const forgetStage = undoOnInterrupt(() => destroyStage(stage));
  let witnesses: Witnesses | undefined;
  try {
    witnesses = await startWitnesses(stage, target);
    const attempts: AttemptReport[] = [];
    if (c.attempts) {
      const launch = c.launch ?? {};
      const judge: Judge = { stage, witnesses, caps, granted: grantedBy(launch, stage) };
      const session = await FencedSession.open(target, stage, launch);
      await supervisorQuiet(stage, 2);
      for (const a of c.attempts(stage)) attempts.push(await judgeAttempt(judge, session, a, c.expect));
      if (!('refused' in session)) await session.close();
    }
    if (c.custom) attempts.push(...(await runCustom(c, { stage, backend: target.backend, cli: target.cli }, caps)));
    return caseReport(c, attempts);
  } catch (e) {
    if (e instanceof StageRefused) throw e;
    const promise = promiseFor(c.expect, caps);
    return caseReport(c, [{ name: 'stage', expect: c.expect, promise, observed: 'error', status: 'ERROR', evidence: [(e as Error).message] }]);
  } finally {
    await witnesses?.close();
    destroyStage(stage);
    forgetStage();
  }
}

/** Run the cases against one backend, each on a fresh stage. */
export async function runBackend(backend: Backend, cases: Case[], opts: RunOptions = {}): Promise<BackendReport> {
  const started = Date.now();
  const probed = backend.probe();
  const caps: Capabilities = opts.strict ? { ...probed, guarantees: allEnforced() } : probed;
  const report: BackendReport = { backend: backend.name, available: caps.available, user: currentUser(), cases: [], ms: 0 };
  if (!caps.available) {
    report.unavailableReason = `${caps.unavailableReason ?? 'unavailable'}${caps.fix ? ` (fix: ${caps.fix})` : ''}`;
    return report;
  }
  const target: SessionTarget = { cli: CLI, driver: DRIVER, backend: backend.name };
  for (const c of cases) {
    let r: CaseReport;
    try {
      r = await runCase(c, target, caps);
    } catch (e) {
      if (!(e instanceof StageRefused)) throw e;
      return { ...report, available: false, cases: [], unavailableReason: `refuses to fence a task worktree here, so no case can run: ${e.message}` };
    }
    report.cases.push(r);
    opts.onCase?.(r);
  }
  report.ms = Date.now() - started;
  return report;
}
