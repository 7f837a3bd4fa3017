// The dashboard page: the fleet, live over the fleet stream (each agent pushed as it
// changes); the activity feed, live over the audit event stream; the approvals waiting for
// a person, live over the approvals stream; one agent's terminal or diff with its actions.
// Every change comes from a stream; nothing polls the daemon.
import { addToFeed } from './activity.js';
import { ApiError, killAgent, listAgents, recentEvents, removeAgent, restartAgent, socketUrl, type Agent, type AuditEvent, type DiffStatMessage } from './api.js';
import { followApprovals } from './approvals.js';
import { effectiveState, matchesFilter, renderFleet, sortForAttention, stateText, uptimeText } from './fleet.js';
import { followFleet } from './fleet-live.js';
import { setUpSpawnDialog } from './spawn-form.js';
import { setUpDiffView } from './task-diff.js';
import { openTerminal, type TerminalView } from './terminal-view.js';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const tbody = $<HTMLTableSectionElement>('fleet-rows');
const filterInput = $<HTMLInputElement>('filter');
const connection = $('connection');
const notice = $('notice');
const panel = $('agent-panel');
const readOnlyBox = $<HTMLInputElement>('read-only');
const terminalStatus = $('terminal-status');
// An action's answer has a line of its own: the terminal stream's own news (a restart
// detaches it) arriving just after would otherwise overwrite it.
const actionStatus = $('action-status');
const feed = $<HTMLOListElement>('activity-list');
const badge = $<HTMLButtonElement>('approvals-badge');

/** The fleet by name, as the fleet stream last said (or the first listing, until it speaks). */
const fleet = new Map<string, Agent>();
let agents: Agent[] = [];
let streamLive = false;
let renderQueued = false;
let selected: string | undefined;
let terminal: TerminalView | undefined;
let lastEventId: number | undefined;
let showing: 'terminal' | 'diff' = 'terminal';

function showNotice(text: string, isError = false): void {
  notice.hidden = !text;
  notice.textContent = text;
  notice.classList.toggle('error', isError);
}

function render(): void {
  const shown = sortForAttention(agents.filter((a) => matchesFilter(a, filterInput.value)));
  renderFleet(tbody, shown, selected, pick);
  if (agents.length === 0) showNotice('No agents. Start one with `celistra ctl spawn --workspace DIR -- CMD`.');
  else if (shown.length === 0) showNotice('No agent matches the filter.');
  else showNotice('');
  const current = agents.find((a) => a.name === selected);
  const state = $('agent-state');
  state.textContent = current ? stateText(current) : selected ? 'removed' : '';
  state.className = `state state-${current ? effectiveState(current) : 'exited'}`;
}

/** The first listing, and the reason when the page cannot have one (not logged in). */
async function listOnce(): Promise<void> {
  try {
    const listed = await listAgents();
    // The stream's snapshot is newer than any listing.
    if (streamLive) return;
    fleet.clear();
    for (const a of listed) fleet.set(a.name, a);
    fleetChanged(true);
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) showNotice('Not logged in: run `celistra dashboard` and open the link it prints.', true);
    else showNotice(`Could not list the agents: ${(e as Error).message}`, true);
  }
}

/**
 * Drawn at most once per frame, just before it is painted: a burst of exits, or a hundred
 * agents' last lines changing, costs one redraw per frame, none while the tab is hidden.
 */
function fleetChanged(whole = false): void {
  if (whole) {
    // The whole fleet (the page's first listing): drawn at once.
    agents = [...fleet.values()];
    render();
    return;
  }
  if (renderQueued) return;
  renderQueued = true;
  requestAnimationFrame(() => {
    renderQueued = false;
    agents = [...fleet.values()];
    render();
  });
}

/** The feed's first screen; the stream then continues after its newest row, so nothing is missed or shown twice. */
async function loadFeed(): Promise<void> {
  try {
    const events = await recentEvents(50);
    addToFeed(feed, events);
    if (events.length) lastEventId = Math.max(lastEventId ?? 0, ...events.map((e) => e.id));
  } catch {
    // Not logged in, or the daemon is going away: the listing says so.
  }
}

/** A pushed diff stat changes one row: drawn at the next frame (a hundred stats, one drawing). */
function updateDiffStat({ agent, stat }: DiffStatMessage['diffStat']): void {
  const a = fleet.get(agent);
  if (!a) return;
  a.diffStat = stat;
  fleetChanged();
}

function followEvents(): void {
  // diffStats=1: the stream also carries each agent's diff stat when it changes.
  const after = lastEventId === undefined ? '' : `&after=${lastEventId}`;
  const ws = new WebSocket(socketUrl(`/v1/events/stream?diffStats=1${after}`));
  ws.addEventListener('message', (ev) => {
    const msg = JSON.parse(String(ev.data)) as { event?: AuditEvent } & Partial<DiffStatMessage>;
    if (msg.diffStat) return updateDiffStat(msg.diffStat);
    if (msg.event) {
      lastEventId = msg.event.id;
      addToFeed(feed, [msg.event]);
    }
  });
  ws.addEventListener('close', () => setTimeout(followEvents, 2000));
}

function pick(name: string): void {
  selected = name;
  document.body.classList.add('attached');
  panel.hidden = false;
  $('agent-name').textContent = name;
  render();
  show(showing);
}

/** The agent panel shows the terminal or the task's diff. */
function show(view: 'terminal' | 'diff'): void {
  showing = view;
  $('show-terminal').setAttribute('aria-selected', String(view === 'terminal'));
  $('show-diff').setAttribute('aria-selected', String(view === 'diff'));
  $('terminal').hidden = view !== 'terminal';
  $('diff-view').hidden = view !== 'diff';
  if (view === 'terminal') attach();
  else {
    terminal?.close();
    terminal = undefined;
    if (selected !== undefined) void diffView.load(selected);
  }
}

function attach(): void {
  terminal?.close();
  terminal = undefined;
  if (selected === undefined) return;
  terminalStatus.classList.remove('error');
  terminal = openTerminal($('terminal'), selected, readOnlyBox.checked, (text, isError) => {
    terminalStatus.textContent = text;
    terminalStatus.classList.toggle('error', isError === true);
  });
}

function closePanel(): void {
  terminal?.close();
  terminal = undefined;
  selected = undefined;
  panel.hidden = true;
  document.body.classList.remove('attached');
  render();
}

/** Run an action on the selected agent and say how it went; true when it worked. */
async function act(what: string, action: () => Promise<unknown>): Promise<boolean> {
  try {
    await action();
    actionStatus.textContent = `${what}: done`;
    actionStatus.classList.remove('error');
    return true;
  } catch (e) {
    actionStatus.textContent = `${what} failed: ${(e as Error).message}`;
    actionStatus.classList.add('error');
    return false;
  }
}

// The first listing does not wait for the stream (a fetch on the page's own connection
// is quicker than a WebSocket's handshake): the fleet shows as soon as it can, and the
// stream's snapshot replaces it. The fleet's socket opens first (a browser opens one
// WebSocket to a host at a time). A listing also says why when the stream cannot be had
// (a browser hides the refusal), e.g. that the page is not logged in.
void listOnce();
followFleet(fleet, fleetChanged, (live, reason) => {
  streamLive = live;
  connection.textContent = live ? 'live' : `disconnected (${reason}); reconnecting…`;
});
const diffView = setUpDiffView($('diff-view'), (text, isError) => {
  terminalStatus.textContent = text;
  terminalStatus.classList.toggle('error', isError === true);
});
followApprovals($('approvals'), $<HTMLUListElement>('approvals-list'), $('approvals-status'), (pending) => {
  const n = pending.length;
  badge.hidden = n === 0;
  badge.textContent = `${n} waiting`;
});
badge.addEventListener('click', () => {
  if (selected !== undefined) closePanel();
  $('approvals').scrollIntoView();
});
$('show-terminal').addEventListener('click', () => show('terminal'));
$('show-diff').addEventListener('click', () => show('diff'));
filterInput.addEventListener('input', render);
// A new agent comes over the fleet stream.
setUpSpawnDialog($<HTMLDialogElement>('spawn-dialog'), $('new-agent'), () => undefined);
readOnlyBox.addEventListener('change', () => showing === 'terminal' && attach());
$('back').addEventListener('click', closePanel);
$('kill').addEventListener('click', () => {
  const signal = $<HTMLSelectElement>('signal').value;
  const name = selected;
  if (name) void act(`kill -${signal}`, () => killAgent(name, signal));
});
$('restart').addEventListener('click', () => {
  const name = selected;
  // The new run has a new terminal: attach to it once it is up.
  if (name) void act('restart', () => restartAgent(name)).then((ok) => ok && selected === name && showing === 'terminal' && setTimeout(attach, 300));
});
$('remove').addEventListener('click', () => {
  const name = selected;
  if (name) void act('remove', () => removeAgent(name)).then((ok) => ok && selected === name && closePanel());
});
// Uptime ticks from each agent's start time: a local clock, not a request.
setInterval(() => {
  const now = Date.now();
  for (const tr of tbody.rows) {
    const a = agents.find((x) => x.name === tr.dataset.agent);
    const cell = tr.querySelector('.uptime');
    if (a && cell) cell.textContent = uptimeText(a, now);
  }
}, 1000);

void loadFeed().then(followEvents);
