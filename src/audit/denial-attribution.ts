import { readFileSync } from 'node:fs';
import type { LandlockDenial, LandlockDomainStart } from './denial-events.js';

/** The processes that stand for one running agent: its exec helper and its holder. */
export interface AgentProcesses {
  agent: string;
  pids: number[];
}

/** The parent of a live process, or undefined when it is gone. */
export type ParentLookup = (pid: number) => number | undefined;

/** Ancestry from /proc: the 4th field of /proc/PID/stat, after the parenthesised comm. */
export function procParent(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    return Number.isInteger(ppid) && ppid > 0 ? ppid : undefined;
  } catch {
    return undefined;
  }
}

/** Far deeper than any agent's process tree; stops a walk that meets a cycle of reused pids. */
const MAX_DEPTH = 128;

/**
 * Which agent a denial belongs to. Every Landlock domain Celistra creates is made by a
 * direct child of the agent's exec helper (the command itself, or the pid-namespace
 * init), so the domain creator's ancestry leads to the agent's helper. Ancestry is read
 * from /proc the moment a domain's first denial is reported (the processes may be gone
 * a moment later) and kept per domain, together with that of each denied process and
 * its parent (from the SYSCALL record); it is matched against the agents as often as the
 * caller asks, because a command can be refused before its agent's launch has returned
 * its pid. A match is kept until the kernel says the domain is gone. Domains of other
 * programs on the host lead to no agent and are left out.
 */
export class DenialAttribution {
  private readonly byDomain = new Map<string, string>();
  private readonly ancestry = new Map<string, Set<number>>();

  constructor(private readonly parentOf: ParentLookup = procParent) {}

  domainStarted(d: LandlockDomainStart, agents: AgentProcesses[]): void {
    this.remember(d.domain, [d.creatorPid]);
    this.match(d.domain, agents);
  }

  domainEnded(domain: string): void {
    this.byDomain.delete(domain);
    this.ancestry.delete(domain);
  }

  /** The agent, or undefined when none matches yet (the caller may ask again later). */
  attribute(d: LandlockDenial, agents: AgentProcesses[]): string | undefined {
    const known = this.byDomain.get(d.domain);
    if (known !== undefined) return known;
    this.remember(d.domain, [d.pid, d.ppid].filter((p): p is number => p !== undefined));
    return this.match(d.domain, agents);
  }

  private remember(domain: string, starts: number[]): void {
    const seen = this.ancestry.get(domain) ?? new Set<number>();
    for (const start of starts) {
      let pid: number | undefined = start;
      for (let depth = 0; pid !== undefined && pid > 1 && depth < MAX_DEPTH && !seen.has(pid); depth++) {
        seen.add(pid);
        pid = this.parentOf(pid);
      }
    }
    this.ancestry.set(domain, seen);
  }

  private match(domain: string, agents: AgentProcesses[]): string | undefined {
    const chain = this.ancestry.get(domain);
    if (!chain) return undefined;
    for (const a of agents) {
      if (a.pids.some((p) => chain.has(p))) {
        this.byDomain.set(domain, a.agent);
        return a.agent;
      }
    }
    return undefined;
  }
}
