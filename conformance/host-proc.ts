import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** The host's view of processes, read from /proc (the judge never asks the fenced side). */

function parentOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may contain spaces and parentheses; fields resume after the last ')'.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(rest[1]);
  } catch {
    return undefined;
  }
}

function allPids(): number[] {
  return readdirSync('/proc').filter((n) => /^\d+$/.test(n)).map(Number);
}

export function descendants(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const pid of allPids()) {
    const ppid = parentOf(pid);
    if (ppid === undefined) continue;
    const list = children.get(ppid) ?? [];
    list.push(pid);
    children.set(ppid, list);
  }
  const out: number[] = [];
  const queue = [root];
  while (queue.length) {
    const p = queue.shift()!;
    for (const c of children.get(p) ?? []) {
      out.push(c);
      queue.push(c);
    }
  }
  return out;
}

export function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
  } catch {
    return '';
  }
}

/** The first descendant of `root` whose command line contains `needle`. */
export function findDescendant(root: number, needle: string): number | undefined {
  return descendants(root).find((p) => commandLine(p).includes(needle));
}

/** Every live process whose environment carries `marker` (children that outlived their agent). */
export function processesWithEnv(marker: string): number[] {
  return allPids().filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/environ`, 'utf8').includes(marker);
    } catch {
      return false;
    }
  });
}

export function statusField(pid: number, field: string): string | undefined {
  try {
    const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith(`${field}:`));
    return line?.slice(field.length + 1).trim();
  } catch {
    return undefined;
  }
}

export interface OpenFd {
  fd: number;
  target: string;
  /** O_ACCMODE of the open file: 0 read-only, 1 write-only, 2 read-write. */
  accessMode: number;
}

export function openFds(pid: number): OpenFd[] {
  const out: OpenFd[] = [];
  let names: string[];
  try {
    names = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return out;
  }
  for (const n of names) {
    try {
      const target = readlinkSync(`/proc/${pid}/fd/${n}`);
      const flagsLine = readFileSync(`/proc/${pid}/fdinfo/${n}`, 'utf8').split('\n').find((l) => l.startsWith('flags:'));
      const flags = flagsLine ? parseInt(flagsLine.slice(6).trim(), 8) : 0;
      out.push({ fd: Number(n), target, accessMode: flags & 3 });
    } catch {
      // closed between listing and reading
    }
  }
  return out;
}
