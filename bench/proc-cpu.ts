import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/**
 * CPU time per process from /proc (Linux; pidstat is not on every machine): user + system
 * time, plus that of its children it has waited for, so that a shell's `yes | head` is
 * counted with the shell once they are reaped.
 */
const TICKS = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

interface Stat {
  pid: number;
  ppid: number;
  comm: string;
  /** utime + stime + cutime + cstime, in ms. */
  cpuMs: number;
  /** utime + stime alone, in ms. */
  ownMs: number;
}

function readStat(pid: number): Stat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name is in parentheses and may hold spaces: fields follow the last ')'.
  const close = text.lastIndexOf(')');
  const comm = text.slice(text.indexOf('(') + 1, close);
  const f = text.slice(close + 2).split(' ');
  // f[0] is field 3 (state): utime is field 14, stime 15, cutime 16, cstime 17.
  const own = Number(f[11]) + Number(f[12]);
  const ticks = own + Number(f[13]) + Number(f[14]);
  return { pid, ppid: Number(f[1]), comm, cpuMs: (ticks * 1000) / TICKS, ownMs: (own * 1000) / TICKS };
}

function allStats(): Stat[] {
  const out: Stat[] = [];
  for (const n of readdirSync('/proc')) {
    if (!/^\d+$/.test(n)) continue;
    const s = readStat(Number(n));
    if (s) out.push(s);
  }
  return out;
}

/** CPU ms of one process alone (not its children); 0 once it is gone. */
export function processCpuMs(pid: number): number {
  return readStat(pid)?.ownMs ?? 0;
}

/** CPU ms of every live process under `root` (itself included), each with its reaped children. */
export function treeCpuMs(root: number, stats: Stat[] = allStats()): number {
  const children = new Map<number, Stat[]>();
  for (const s of stats) children.set(s.ppid, [...(children.get(s.ppid) ?? []), s]);
  let total = 0;
  const walk = (pid: number) => {
    for (const c of children.get(pid) ?? []) {
      total += c.cpuMs;
      walk(c.pid);
    }
  };
  total += stats.find((s) => s.pid === root)?.cpuMs ?? 0;
  walk(root);
  return total;
}

/** The children of `parent` whose command name matches. */
export function childrenNamed(parent: number, name: RegExp): number[] {
  return allStats()
    .filter((s) => s.ppid === parent && name.test(s.comm))
    .map((s) => s.pid);
}
