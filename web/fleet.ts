// The fleet table: one row per agent, those needing a person first, filtered by text.
import type { Agent } from './api.js';
import { formatDuration } from '../src/text/duration.js';

/** Lower sorts first: agents that need a person, then the working ones, then the finished ones. */
const ATTENTION: Record<string, number> = { 'crashed-out': 0, 'waiting-approval': 1, restarting: 2, running: 3, exited: 4, stopped: 5 };

/** The daemon says `running`; a running agent with pending requests is waiting for a person (as `ctl ls` shows it). */
export function effectiveState(a: Agent): string {
  return a.state === 'running' && a.approvals ? 'waiting-approval' : a.state;
}

export function sortForAttention(agents: Agent[]): Agent[] {
  return [...agents].sort((a, b) => (ATTENTION[effectiveState(a)] ?? 9) - (ATTENTION[effectiveState(b)] ?? 9) || a.name.localeCompare(b.name));
}

export function matchesFilter(agent: Agent, filter: string): boolean {
  const f = filter.trim().toLowerCase();
  if (!f) return true;
  return [agent.name, effectiveState(agent), agent.branch ?? '', agent.worktree ?? '', agent.workspace, agent.backend ?? '', agent.preset ?? '', agent.lastLine].some((s) => s.toLowerCase().includes(f));
}

export function stateText(a: Agent): string {
  if (a.state === 'exited' && a.lastExit) return `exited (${a.lastExit.status})`;
  if (effectiveState(a) === 'waiting-approval') return `waiting-approval (${a.approvals!.count})`;
  return a.state;
}

/** Uptime from the agent's start time, so the page can tick it without asking the daemon. */
export function uptimeText(a: Agent, now: number): string {
  return a.state === 'running' && a.startedAt !== null ? formatDuration(Math.max(0, now - a.startedAt)) : '-';
}

function cell(row: HTMLTableRowElement, label: string, text: string, className?: string): HTMLTableCellElement {
  const td = row.insertCell();
  td.textContent = text;
  td.dataset.label = label;
  if (className) td.className = className;
  return td;
}

/** Replace the table body's rows (textContent only: agent output never becomes markup). */
export function renderFleet(tbody: HTMLTableSectionElement, agents: Agent[], selected: string | undefined, onPick: (name: string) => void): void {
  const now = Date.now();
  const rows = agents.map((a) => {
    const tr = document.createElement('tr');
    tr.dataset.agent = a.name;
    if (a.name === selected) tr.className = 'selected';
    const name = cell(tr, 'name', a.name, 'name');
    name.removeAttribute('data-label');
    cell(tr, 'state', stateText(a), `state state-${effectiveState(a)}`);
    cell(tr, 'branch', a.branch ? `${a.branch}${a.worktree ? ` (${a.worktree})` : ''}` : a.workspace);
    cell(tr, 'uptime', uptimeText(a, now), 'uptime');
    cell(tr, 'restarts', String(a.restarts));
    cell(tr, 'backend', a.unsandboxed ? 'NONE! UNSANDBOXED' : (a.backend ?? '-'), a.unsandboxed ? 'unsandboxed' : undefined);
    cell(tr, 'preset', a.preset ?? '-');
    cell(tr, 'last', a.lastLine, 'last');
    tr.addEventListener('click', () => onPick(a.name));
    return tr;
  });
  tbody.replaceChildren(...rows);
}
