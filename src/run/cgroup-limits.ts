import { accessSync, constants, existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CelistraError } from '../policy/errors.js';

/**
 * Per-agent cgroups: one per run, made by the host side (daemon or `celistra run`)
 * before the agent starts, joined by the agent's first process before its sandbox is
 * set up (run/limits.ts), emptied and removed when the run ends.
 *
 * Two layouts are handled:
 * - cgroup v1 (or the v1 half of a hybrid): each controller is its own hierarchy under
 *   ROOT/<controller>. The run's cgroup goes under the caller's own cgroup in each
 *   hierarchy (so whatever bounds the caller, say a memory limit, still bounds the
 *   agent): ROOT/pids/<own>/celistra.<uid>/<run>. Usually writable by root only.
 * - cgroup v2 (ROOT/cgroup.controllers exists): one tree. A cgroup with processes in it
 *   cannot enable controllers for children, so the base is the deepest proper ancestor
 *   of the caller's cgroup that this user can write (systemd's user delegation gives
 *   user@UID.service and below; root writes the whole tree), and the run's cgroup is
 *   BASE/celistra.<uid>/<run>. Moving a process there needs write access to the common
 *   ancestor's cgroup.procs, which is why it must be an ancestor of our own cgroup.
 * Nothing here is a path the agent may write: it is under /sys, outside every writable
 * root, and /sys is read-only inside both Linux backends.
 */
export type Controller = 'pids' | 'memory' | 'cpu';
export const CONTROLLERS: readonly Controller[] = ['pids', 'memory', 'cpu'];

export interface CgroupEnv {
  /** Where cgroup file systems are mounted (tests use a fake tree). */
  root: string;
  /** The text of /proc/self/cgroup. */
  selfCgroup: string;
  uid: number;
}

export interface CgroupBase {
  version: 1 | 2;
  /** BASE/celistra.<uid>: the parent of every run's cgroup for this controller. */
  dir: string;
  /** The cgroup this process is in, in this hierarchy (to go back to after joining a run's). */
  own: string;
}

export interface CgroupProbe {
  bases: Partial<Record<Controller, CgroupBase>>;
  /** Why a controller has no base (for doctor and error messages). */
  why: Partial<Record<Controller, string>>;
}

export function hostCgroupEnv(): CgroupEnv | undefined {
  if (process.platform !== 'linux') return undefined;
  try {
    return { root: '/sys/fs/cgroup', selfCgroup: readFileSync('/proc/self/cgroup', 'utf8'), uid: process.getuid!() };
  } catch {
    return undefined;
  }
}

function writable(path: string): boolean {
  try {
    accessSync(path, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** Where each controller's run cgroups can be made by this process, if anywhere. */
export function probeCgroups(env: CgroupEnv | undefined = hostCgroupEnv()): CgroupProbe {
  const probe: CgroupProbe = { bases: {}, why: {} };
  if (!env) {
    for (const c of CONTROLLERS) probe.why[c] = 'no cgroups on this system';
    return probe;
  }
  const lines = env.selfCgroup.split('\n').filter(Boolean).map((l) => {
    const [, ctrls = '', ...rest] = l.split(':');
    return { ctrls: ctrls.split(','), path: rest.join(':') };
  });
  const name = `celistra.${env.uid}`;
  if (existsSync(join(env.root, 'cgroup.controllers'))) {
    const own = lines.find((l) => l.ctrls.length === 1 && l.ctrls[0] === '')?.path ?? '/';
    const base = v2Base(env.root, own);
    for (const c of CONTROLLERS) {
      if (!base) probe.why[c] = `no cgroup v2 directory above ${own} is writable by uid ${env.uid} (no systemd user delegation)`;
      else if (!base.controllers.includes(c)) probe.why[c] = `the ${c} controller is not enabled for children of ${base.dir} (cgroup.subtree_control)`;
      else probe.bases[c] = { version: 2, dir: join(base.dir, name), own: join(env.root, own) };
    }
    return probe;
  }
  for (const c of CONTROLLERS) {
    const line = lines.find((l) => l.ctrls.includes(c));
    const mount = join(env.root, c);
    if (!line || !existsSync(join(mount, 'cgroup.procs'))) {
      probe.why[c] = `no cgroup v1 ${c} hierarchy mounted at ${mount}`;
      continue;
    }
    const ownDir = join(mount, line.path);
    const dir = join(ownDir, name);
    if (existsSync(dir) ? writable(dir) && writable(join(dir, 'cgroup.procs')) : writable(ownDir)) probe.bases[c] = { version: 1, dir, own: ownDir };
    else probe.why[c] = `${existsSync(dir) ? dir : ownDir} is not writable by uid ${env.uid}`;
  }
  return probe;
}

/** The deepest proper ancestor of `own` (or the root itself) that we can write and that hands controllers down. */
function v2Base(root: string, own: string): { dir: string; controllers: string[] } | undefined {
  const parts = own.split('/').filter(Boolean);
  // The root cgroup may hold processes and still enable controllers; any other cgroup
  // with processes (ours) may not, so our own cgroup is a candidate only when it is the root.
  for (let n = parts.length - 1; n >= 0; n--) {
    const dir = join(root, ...parts.slice(0, n));
    if (!writable(dir) || !writable(join(dir, 'cgroup.procs')) || !writable(join(dir, 'cgroup.subtree_control'))) continue;
    return { dir, controllers: readWords(join(dir, 'cgroup.subtree_control')) };
  }
  return undefined;
}

function readWords(path: string): string[] {
  try {
    return readFileSync(path, 'utf8').split(/\s+/).filter(Boolean);
  } catch {
    return [];
  }
}

/** One run's cgroups: a dir per v1 hierarchy, or one v2 dir. */
export interface CgroupRun {
  version: 1 | 2;
  dirs: string[];
  /** The maker's own cgroups, one per dir: where a process that joined the run's goes back to. */
  origins: string[];
  controllers: Controller[];
}

export interface CgroupValues {
  pids?: number;
  memoryBytes?: number;
  cpu?: number;
}

const CPU_PERIOD_US = 100_000;
/** A run cgroup this old and still empty belongs to no one (a crash between making and joining it). */
const STALE_EMPTY_MS = 60_000;

/**
 * Make the run's cgroups and write its limits. Every controller in `values` must have a
 * base in `probe` (the caller checked); a write that fails removes what was made and
 * throws: the agent never starts with a limit silently missing.
 */
export function makeCgroupRun(probe: CgroupProbe, runId: string, values: CgroupValues): CgroupRun {
  const wanted = CONTROLLERS.filter((c) => (c === 'pids' ? values.pids : c === 'memory' ? values.memoryBytes : values.cpu) !== undefined);
  const bases = wanted.map((c) => ({ c, base: probe.bases[c]! }));
  const version = bases[0]?.base.version ?? 2;
  const dirs: string[] = [];
  const origins: string[] = [];
  const run: CgroupRun = { version, dirs, origins, controllers: wanted };
  try {
    for (const { c, base } of bases) {
      const dir = join(base.dir, safeRunName(runId));
      if (!dirs.includes(dir)) {
        prepareBase(base, wanted);
        mkdirSync(dir, { mode: 0o755 });
        dirs.push(dir);
        origins.push(base.own);
      }
      writeLimit(dir, base.version, c, values);
    }
  } catch (e) {
    removeCgroupRun(run);
    throw new CelistraError('E_SPAWN', `could not set up the agent's cgroup: ${(e as Error).message}`, 'run `celistra doctor` to see which limits this machine can hold');
  }
  return run;
}

function safeRunName(runId: string): string {
  return runId.replace(/[^A-Za-z0-9_.-]/g, '_');
}

function prepareBase(base: CgroupBase, wanted: Controller[]): void {
  if (!existsSync(base.dir)) mkdirSync(base.dir, { mode: 0o755 });
  else sweepStale(base.dir);
  if (base.version === 2) {
    const have = readWords(join(base.dir, 'cgroup.subtree_control'));
    const missing = wanted.filter((c) => !have.includes(c));
    if (missing.length) writeFileSync(join(base.dir, 'cgroup.subtree_control'), missing.map((c) => `+${c}`).join(' '));
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Remove run cgroups nobody will remove: those of a `celistra run` that handed itself
 * over to the exec helper (no Node process is left at its end to do it; the helper's PID
 * namespace has ended its processes), and those of a process that crashed between
 * making and joining one. An rmdir of a cgroup with tasks fails, so a live one is safe.
 */
function sweepStale(baseDir: string): void {
  let names: string[];
  try {
    names = readdirSync(baseDir);
  } catch {
    return;
  }
  const now = Date.now();
  for (const n of names) {
    const dir = join(baseDir, n);
    try {
      const st = statSync(dir);
      if (!st.isDirectory()) continue;
      // `celistra run`'s (run.PID) once its process is gone; others (the daemon's runs,
      // which it removes itself) only after a while, never one being joined right now.
      const runPid = /^run\.(\d+)$/.exec(n)?.[1];
      if (runPid ? pidAlive(Number(runPid)) : now - st.mtimeMs < STALE_EMPTY_MS) continue;
      if (readFileSync(join(dir, 'cgroup.procs'), 'utf8').trim() !== '') continue;
      rmdirSync(dir);
    } catch {
      // In use, or someone else's: left alone (rmdir of a cgroup with tasks fails anyway).
    }
  }
}

function writeLimit(dir: string, version: 1 | 2, c: Controller, v: CgroupValues): void {
  const put = (file: string, value: string) => writeFileSync(join(dir, file), value);
  if (c === 'pids') put('pids.max', String(v.pids));
  else if (c === 'memory') {
    const bytes = String(v.memoryBytes);
    if (version === 1) {
      put('memory.limit_in_bytes', bytes);
      // RAM + swap: without it the agent would page out past its limit.
      if (existsSync(join(dir, 'memory.memsw.limit_in_bytes'))) put('memory.memsw.limit_in_bytes', bytes);
    } else {
      put('memory.max', bytes);
      if (existsSync(join(dir, 'memory.swap.max'))) put('memory.swap.max', '0');
    }
  } else {
    const quota = String(Math.max(1000, Math.round(v.cpu! * CPU_PERIOD_US)));
    if (version === 1) {
      put('cpu.cfs_period_us', String(CPU_PERIOD_US));
      put('cpu.cfs_quota_us', quota);
    } else put('cpu.max', `${quota} ${CPU_PERIOD_US}`);
  }
}

/**
 * Move a process (`celistra run` itself, before it starts or becomes the command) into
 * the run's cgroups; `leave` moves it back to where it came from, so the run's cgroups
 * can be removed.
 */
export function joinCgroupRun(run: CgroupRun, pid: number): void {
  for (const dir of run.dirs) writeFileSync(join(dir, 'cgroup.procs'), String(pid));
}

export function leaveCgroupRun(run: CgroupRun, pid: number): void {
  for (const origin of run.origins) {
    try {
      writeFileSync(join(origin, 'cgroup.procs'), String(pid));
    } catch {
      // Our old cgroup is gone: removing the run's then fails and says so.
    }
  }
}

/** The `cgroup.procs` files the agent's first process writes its pid into. */
export function joinFiles(run: CgroupRun): string[] {
  return run.dirs.map((d) => join(d, 'cgroup.procs'));
}

export interface CgroupRunEvents {
  /** Processes the kernel killed for memory (the OOM killer) in this run. */
  oomKills: number;
  /** Forks refused at the process limit. */
  forksRefused: number;
}

/** What the run's cgroups counted; read before they are removed. */
export function readCgroupEvents(run: CgroupRun): CgroupRunEvents {
  const out: CgroupRunEvents = { oomKills: 0, forksRefused: 0 };
  for (const dir of run.dirs) {
    out.forksRefused += keyed(join(dir, 'pids.events'), 'max');
    out.oomKills += keyed(join(dir, run.version === 1 ? 'memory.oom_control' : 'memory.events'), 'oom_kill');
  }
  return out;
}

function keyed(path: string, key: string): number {
  try {
    const line = readFileSync(path, 'utf8').split('\n').find((l) => l.startsWith(`${key} `));
    const n = line ? Number(line.slice(key.length + 1)) : 0;
    return Number.isFinite(n) ? n : 0;
  } catch {
    return 0;
  }
}

/**
 * End what is left in the run's cgroups (a daemonized child the agent left behind: the
 * run is over, so is everything it started) and remove them. Never throws; returns the
 * dirs it could not remove.
 */
export function removeCgroupRun(run: CgroupRun, waitMs = 2000): string[] {
  const left: string[] = [];
  for (const dir of run.dirs) {
    if (!existsSync(dir)) continue;
    const deadline = Date.now() + waitMs;
    for (;;) {
      if (tryRmdir(dir)) break;
      const pids = readWords(join(dir, 'cgroup.procs')).map(Number).filter((p) => Number.isInteger(p) && p > 0);
      if (run.version === 2 && existsSync(join(dir, 'cgroup.kill'))) {
        try {
          writeFileSync(join(dir, 'cgroup.kill'), '1');
        } catch {
          // Older kernels: the pids below.
        }
      }
      for (const pid of pids) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // Gone meanwhile.
        }
      }
      if (Date.now() > deadline) {
        left.push(dir);
        break;
      }
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
    }
  }
  return left;
}

function tryRmdir(dir: string): boolean {
  try {
    rmdirSync(dir);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ENOENT';
  }
}
