// The activity feed: audit events as they are recorded (spawn, exit, restart, kill,
// approvals, denials, ...), newest on top. The page's one event stream feeds it.
import type { AuditEvent } from './api.js';

/** The feed keeps this many lines; older ones are in `celistra history`. */
export const FEED_LINES = 200;

const str = (v: unknown) => (typeof v === 'string' ? v : v === undefined || v === null ? '' : JSON.stringify(v));

/** One line saying what happened, from the event's data (docs/audit.md, "What is recorded"). */
export function describeEvent(e: AuditEvent): string {
  const d = e.data;
  switch (e.type) {
    case 'spawn':
      return `started (${str(d.backend)}): ${Array.isArray(d.command) ? d.command.join(' ') : str(d.command)}`;
    case 'exit':
      return `exited: ${d.signal ? str(d.signal) : `code ${str(d.code)}`}${d.why ? ` (${str(d.why)})` : ''}`;
    case 'restart':
      return `restarting (${str(d.reason)}${d.attempt !== undefined ? `, attempt ${str(d.attempt)}` : ''})`;
    case 'crashed-out':
      return 'crashed out: too many crashes, not restarted again';
    case 'kill':
      return `kill -${str(d.signal).replace(/^SIG/, '')}`;
    case 'approval': {
      const what = str(d.action);
      const who = d.by ? ` by ${str(d.by)}` : '';
      return `approval ${str(d.id)} ${what}${who}${d.tool ? `: ${str(d.tool)}` : ''}${d.text ? ` ${str(d.text)}` : ''}${d.reason ? ` (${str(d.reason)})` : ''}`;
    }
    case 'denial':
      return `sandbox denied: ${str(d.operation)} ${str(d.path)}${typeof d.count === 'number' && d.count > 1 ? ` (×${d.count})` : ''}`;
    default: {
      const rest = JSON.stringify(d);
      return rest === '{}' ? '' : rest.length > 160 ? `${rest.slice(0, 157)}…` : rest;
    }
  }
}

function line(e: AuditEvent): HTMLLIElement {
  const li = document.createElement('li');
  li.dataset.event = String(e.id);
  li.dataset.type = e.type;
  const time = document.createElement('time');
  time.dateTime = new Date(e.ts).toISOString();
  time.textContent = new Date(e.ts).toLocaleTimeString();
  const type = document.createElement('span');
  type.className = `event-type event-${e.type}`;
  type.textContent = e.type;
  const agent = document.createElement('span');
  agent.className = 'event-agent';
  agent.textContent = e.agent ?? 'daemon';
  const text = document.createElement('span');
  text.className = 'event-text';
  text.textContent = describeEvent(e);
  li.append(time, type, agent, text);
  return li;
}

/** Add events (any order) to the feed, newest first, at most FEED_LINES, each once. */
export function addToFeed(list: HTMLOListElement, events: AuditEvent[]): void {
  const lines = new Map([...list.children].map((li) => [Number((li as HTMLElement).dataset.event), li]));
  let added = false;
  for (const e of events) {
    if (lines.has(e.id)) continue;
    lines.set(e.id, line(e));
    added = true;
  }
  if (!added) return;
  const ids = [...lines.keys()].sort((a, b) => b - a).slice(0, FEED_LINES);
  list.replaceChildren(...ids.map((id) => lines.get(id)!));
}
