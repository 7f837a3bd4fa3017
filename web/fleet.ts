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

/** The row's diff cell: `—` outside a task worktree, `…` while measured, `N files +A -R`, or a failure with its reason on hover. */
export function fillDiffCell(td: HTMLTableCellElement, stat: Agent['diffStat']): void {
  td.replaceChildren();
  td.removeAttribute('title');
  td.className = 'diffstat';
  delete td.dataset.files;
  delete td.dataset.added;
  delete td.dataset.removed;
  if (stat === null || stat === undefined) {
    td.textContent = '—';
    td.title = 'not in a task worktree: no base to compare with';
    return;
  }
  if (stat.status === 'pending') {
    td.textContent = '…';
    td.title = 'being measured';
    return;
  }
  if (stat.status === 'failed') {
    td.textContent = '⚠ failed';
    td.title = stat.reason;
    td.classList.add('failed');
    return;
  }
  td.dataset.files = String(stat.files);
  td.dataset.added = String(stat.added);
  td.dataset.removed = String(stat.removed);
  if (stat.files === 0) {
    td.textContent = 'no changes';
    return;
  }
  const add = document.createElement('span');
  add.className = 'added';
  add.textContent = `+${stat.added}`;
  const del = document.createElement('span');
  del.className = 'removed';
  del.textContent = `-${stat.removed}`;
  td.append(`${stat.files} file${stat.files === 1 ? '' : 's'} `, add, ' ', del);
  td.title = `measured ${new Date(stat.at).toLocaleTimeString()}`;
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
    fillDiffCell(cell(tr, 'diff', ''), a.diffStat);
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
