import { readdirSync, statSync } from 'node:fs';
import type { LaunchPlan } from '../backends/backend.js';
import { formatBytes, parseLimits, type LimitsRequest, type ResourceLimits } from '../policy/limits.js';
import { joinCgroupRun, joinFiles, leaveCgroupRun, makeCgroupRun, probeCgroups, readCgroupEvents, removeCgroupRun, type CgroupProbe, type CgroupRun, type CgroupRunEvents } from './cgroup-limits.js';
import { CelistraError } from '../policy/errors.js';
import { loadLowerProcessLimit } from './process-limit.js';

/**
 * Putting an agent run's resource limits in force, the same way for every backend and
 * for both the daemon and `celistra run`: the host side makes the run's cgroup (or
 * computes an RLIMIT_NPROC), and the plan is wrapped so that the agent's first process
 * joins the cgroup and lowers its rlimit, then execs the backend's plan. The wrapper
 * runs before the sandbox is set up (it execs the exec helper, bwrap or sandbox-exec),
 * so the limits hold for the whole fenced tree and the agent cannot undo them: the
 * cgroup files are outside its writable roots, and a lowered hard rlimit cannot be
 * raised without CAP_SYS_RESOURCE.
 *
 * Processes: a pids cgroup where one is writable, else RLIMIT_NPROC. RLIMIT_NPROC counts
 * every task of the user (not only the agent's), so it is set to the user's task count
 * at the start plus the limit; and it does not bind uid 0 at all, so root without a pids
 * cgroup is refused (fail closed) unless the user opts out with `unlimited`. Memory and
 * CPU need their cgroup controller: there is no rlimit that bounds a process tree's
 * memory (RLIMIT_AS would break every Node or JVM agent, which reserve address space).
 */
export type LimitMechanism = 'cgroup-v1' | 'cgroup-v2' | 'rlimit' | 'none';

export interface LimitsInForce extends ResourceLimits {
  /** What holds each limit for this run. */
  by: { procs: LimitMechanism; memory?: LimitMechanism; cpu?: LimitMechanism };
  cgroup?: CgroupRun;
  /** RLIMIT_NPROC given to the agent's first process (rlimit only). */
  rlimitNproc?: number;
}

/** Exit status of the wrapper when it cannot put a limit in force (the command never ran). */
export const LIMITS_EXIT = 125;

/**
 * The wrapper, run by /bin/sh: $1 = how many cgroup.procs files follow, then those
 * files, then the RLIMIT_NPROC value or "-", then the command. `ulimit -u` is bash's,
 * zsh's and busybox's spelling, `-p` dash's; the value is never above the user's hard
 * limit (which cannot be raised), and setting it lowers the hard limit too.
 */
const WRAPPER = [
  'n=$1; shift',
  'while [ "$n" -gt 0 ]; do',
  `  echo $$ > "$1" 2>/dev/null || { echo "celistra: cannot move the agent into its cgroup ($1)" >&2; exit ${LIMITS_EXIT}; }`,
  '  shift; n=$((n - 1))',
  'done',
  'if [ "$1" != - ]; then',
  '  f=-u; ulimit -H -u >/dev/null 2>&1 || f=-p',
  '  l=$1; h=$(ulimit -H $f)',
  '  [ "$h" = unlimited ] || [ "$h" -ge "$l" ] || l=$h',
  `  ulimit $f "$l" 2>/dev/null || { echo "celistra: cannot set the agent's process limit (RLIMIT_NPROC $l)" >&2; exit ${LIMITS_EXIT}; }`,
  'fi',
  'shift',
  'exec "$@"',
].join('\n');

export interface LimitsOptions {
  probe?: CgroupProbe;
  uid?: number;
  /** The user's current task count (tests); read from /proc by default. */
  userTasks?: () => number;
}

/** Make the run's cgroup (or choose its rlimit); throws E_SPAWN when a limit cannot be held. */
export function putLimitsInForce(limits: ResourceLimits, runId: string, opts: LimitsOptions = {}): LimitsInForce {
  const probe = opts.probe ?? probeCgroups();
  const uid = opts.uid ?? process.getuid?.() ?? -1;
  const inForce: LimitsInForce = { ...limits, by: { procs: 'none' } };
  const values: { pids?: number; memoryBytes?: number; cpu?: number } = {};
  const mechanism = (c: 'pids' | 'memory' | 'cpu'): LimitMechanism => (probe.bases[c]!.version === 1 ? 'cgroup-v1' : 'cgroup-v2');
  if (limits.maxProcs !== 'unlimited') {
    if (probe.bases.pids) {
      values.pids = limits.maxProcs;
      inForce.by.procs = mechanism('pids');
    } else if (uid === 0) {
      throw new CelistraError(
        'E_SPAWN',
        `cannot bound the agent's processes: running as root and ${probe.why.pids ?? 'no pids cgroup is writable'} (RLIMIT_NPROC does not bind root)`,
        'mount the pids cgroup controller writable for root, or pass --max-procs unlimited to run without a process limit',
      );
    } else if (process.platform === 'linux' || process.platform === 'darwin') {
      inForce.by.procs = 'rlimit';
      inForce.rlimitNproc = (opts.userTasks ?? (() => userTaskCount(uid)))() + limits.maxProcs;
    } else {
      throw new CelistraError('E_SPAWN', `cannot bound the agent's processes on ${process.platform}`, 'pass --max-procs unlimited');
    }
  }
  for (const [c, key, flag] of [
    ['memory', 'memoryBytes', '--memory'],
    ['cpu', 'cpu', '--cpu'],
  ] as const) {
    const v = limits[key];
    if (v === undefined) continue;
    if (!probe.bases[c]) {
      throw new CelistraError('E_SPAWN', `cannot hold ${flag} ${key === 'memoryBytes' ? formatBytes(v) : v}: ${probe.why[c] ?? `no writable ${c} cgroup`}`, `a ${c} cgroup is needed (root, or cgroup v2 with systemd user delegation); run without ${flag}, or see \`celistra doctor\``);
    }
    values[key] = v;
    inForce.by[c] = mechanism(c);
  }
  if (Object.keys(values).length > 0) inForce.cgroup = makeCgroupRun(probe, runId, values);
  return inForce;
}

/** The plan with the wrapper in front, or the plan itself when there is nothing to put in force. */
export function wrapPlanWithLimits(plan: LaunchPlan, inForce: LimitsInForce): LaunchPlan {
  const files = inForce.cgroup ? joinFiles(inForce.cgroup) : [];
  if (files.length === 0 && inForce.rlimitNproc === undefined) return plan;
  return {
    ...plan,
    file: '/bin/sh',
    args: ['-c', WRAPPER, 'celistra-limits', String(files.length), ...files, inForce.rlimitNproc === undefined ? '-' : String(inForce.rlimitNproc), plan.file, ...plan.args],
  };
}

/** What the run's cgroup counted so far (an OOM kill, forks refused), without ending anything. */
export function limitEvents(inForce: LimitsInForce | undefined): CgroupRunEvents {
  return inForce?.cgroup ? readCgroupEvents(inForce.cgroup) : { oomKills: 0, forksRefused: 0 };
}

/**
 * The run is over: what its cgroup counted (an OOM kill, forks refused), then the cgroup
 * emptied of what the agent left behind and removed.
 */
export function endLimits(inForce: LimitsInForce | undefined): CgroupRunEvents {
  if (!inForce?.cgroup) return { oomKills: 0, forksRefused: 0 };
  const events = readCgroupEvents(inForce.cgroup);
  const left = removeCgroupRun(inForce.cgroup);
  if (left.length) process.stderr.write(`celistra: could not remove the agent's cgroup ${left.join(', ')}: processes in it did not end\n`);
  return events;
}

/** Tasks (threads included, as RLIMIT_NPROC counts them) of processes owned by `uid` (~0.5 ms per 100 processes). */
export function userTaskCount(uid: number, exceptPid?: number): number {
  if (process.platform !== 'linux') return 0;
  let total = 0;
  let names: string[];
  try {
    names = readdirSync('/proc');
  } catch {
    return 0;
  }
  for (const n of names) {
    const c = n.charCodeAt(0);
    if (c < 48 || c > 57 || Number(n) === exceptPid) continue;
    try {
      if (statSync(`/proc/${n}`).uid !== uid) continue;
      total += readdirSync(`/proc/${n}/task`).length;
    } catch {
      // Gone meanwhile.
    }
  }
  return total;
}

/** One line for people: `procs 4096 (cgroup-v1), memory 2G (cgroup-v1), cpu 1.5 (cgroup-v1)`. */
export function describeLimits(l: { maxProcs: number | 'unlimited'; memoryBytes?: number | null; cpu?: number | null; by?: LimitsInForce['by'] | null }): string {
  const parts = [`procs ${l.maxProcs}${l.by ? ` (${l.by.procs})` : ''}`];
  if (l.memoryBytes) parts.push(`memory ${formatBytes(l.memoryBytes)}${l.by?.memory ? ` (${l.by.memory})` : ''}`);
  if (l.cpu) parts.push(`cpu ${l.cpu}${l.by?.cpu ? ` (${l.by.cpu})` : ''}`);
  return parts.join(', ');
}

/** `celistra run`'s limits around its one plan: the plan to start, and what to do once it ended. */
export interface RunLimits {
  plan: LaunchPlan;
  /** The plan was wrapped: it must be spawned as is (no hand-over to the exec helper). */
  wrapped: boolean;
  /** Empty and remove the cgroup; say on stderr when a limit ended the command. */
  end(): void;
}

export function runLimits(req: LimitsRequest, plan: LaunchPlan): RunLimits {
  // This process's own threads are not counted against the command: it hands itself over
  // (one thread left) or waits beside it; one task stands for it.
  const uid = process.getuid?.() ?? -1;
  const inForce = putLimitsInForce(parseLimits(req), `run.${process.pid}`, { uid, userTasks: () => userTaskCount(uid, process.pid) + 1 });
  // This process joins the cgroup itself, so that the hand-over to the exec helper (which
  // keeps its pid) stays possible; everything it starts is in it. Its own ~10 threads
  // count against the limit meanwhile. Only an rlimit needs the wrapper.
  const cgroup = inForce.cgroup;
  if (cgroup) {
    try {
      joinCgroupRun(cgroup, process.pid);
    } catch (e) {
      leaveCgroupRun(cgroup, process.pid);
      endLimits(inForce);
      throw new CelistraError('E_SPAWN', `could not join the run's cgroup: ${(e as Error).message}`);
    }
  }
  // Likewise an rlimit is set on this process, which the command inherits, where the
  // native addon can: no shell in front, and the hand-over stays.
  let rest: LimitsInForce = { ...inForce, cgroup: undefined };
  if (rest.rlimitNproc !== undefined) {
    const lower = loadLowerProcessLimit();
    if (lower) {
      try {
        lower(rest.rlimitNproc);
        rest = { ...rest, rlimitNproc: undefined };
      } catch {
        // Left to the wrapper, which says why it cannot either.
      }
    }
  }
  const wrapped = wrapPlanWithLimits(plan, rest);
  let ended = false;
  return {
    plan: wrapped,
    wrapped: wrapped !== plan,
    end() {
      if (ended) return;
      ended = true;
      if (cgroup) leaveCgroupRun(cgroup, process.pid);
      const events = endLimits(inForce);
      if (events.oomKills > 0) process.stderr.write(`celistra: out of memory: the kernel killed ${events.oomKills} process(es) of the command at its --memory limit (${formatBytes(inForce.memoryBytes ?? 0)})\n`);
    },
  };
}

/** What can hold each limit on this machine, for this user (`celistra doctor`). */
export interface LimitsReport {
  procs: { by: LimitMechanism; where?: string; note?: string };
  memory: { by: LimitMechanism; where?: string; note?: string };
  cpu: { by: LimitMechanism; where?: string; note?: string };
}

export function limitsReport(probe: CgroupProbe = probeCgroups(), uid = process.getuid?.() ?? -1): LimitsReport {
  const held = (c: 'pids' | 'memory' | 'cpu') => {
    const base = probe.bases[c];
    return base ? { by: (base.version === 1 ? 'cgroup-v1' : 'cgroup-v2') as LimitMechanism, where: base.dir } : undefined;
  };
  const procs =
    held('pids') ??
    (uid === 0
      ? { by: 'none' as const, note: `${probe.why.pids ?? 'no pids cgroup'}; RLIMIT_NPROC does not bind root, so agents are refused unless --max-procs unlimited` }
      : { by: 'rlimit' as const, note: `RLIMIT_NPROC: the user's tasks at the start plus the limit (${probe.why.pids ?? 'no pids cgroup'})` });
  const other = (c: 'memory' | 'cpu') => held(c) ?? { by: 'none' as const, note: `${probe.why[c] ?? `no ${c} cgroup`}; --${c} is refused` };
  return { procs, memory: other('memory'), cpu: other('cpu') };
}
