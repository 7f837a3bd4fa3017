// The approvals panel: the daemon's queue (docs/approvals.md), live over
// WS /v1/approvals/stream — the pending requests first, then each new request and decision.
// Answers go through the same queue as `celistra approve/deny`; the first answer wins.
import { approve, deny, socketUrl, type Approval } from './api.js';
import { formatDuration } from '../src/text/duration.js';

/** The request's input in one line (the command, the path, ...), as the CLI's REQUEST column. */
function inputText(a: Approval): string {
  const input = a.input ?? {};
  for (const key of ['command', 'file_path', 'path', 'url', 'pattern']) if (typeof input[key] === 'string') return input[key] as string;
  return Object.keys(input).length ? JSON.stringify(input) : '';
}

function el<K extends keyof HTMLElementTagNameMap>(tag: K, className: string, text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
}

/** One request as a card (textContent only: what an agent asks never becomes markup). */
function card(a: Approval, onAnswered: (id: string, message: string, isError: boolean) => void): HTMLElement {
  const li = el('li', 'approval');
  li.dataset.approval = a.id;
  li.dataset.agent = a.agent;
  const head = el('div', 'approval-head');
  head.append(el('strong', 'approval-agent', a.agent), el('span', 'approval-task', a.task !== a.agent ? `[${a.task}]` : ''), el('span', 'approval-tool', a.tool), el('span', 'approval-id', a.id));
  const waiting = el('span', 'approval-waiting');
  waiting.dataset.created = String(a.created);
  waiting.dataset.expires = String(a.expires);
  head.append(waiting);
  li.append(head, el('p', 'approval-text', a.text));
  const request = inputText(a);
  if (request && request !== a.text) li.append(el('pre', 'approval-input', request));
  if (a.detail) {
    const more = el('details', 'approval-detail');
    more.append(el('summary', '', 'detail'), el('pre', '', a.detail));
    li.append(more);
  }
  if (a.asks > 1) li.append(el('p', 'approval-asks', `asked ${a.asks} times`));
  const form = el('div', 'approval-actions');
  const reason = el('input', 'approval-reason');
  reason.placeholder = 'reason (sent to the agent with a deny)';
  reason.maxLength = 1000;
  reason.setAttribute('aria-label', `reason for ${a.id}`);
  const alwaysLabel = el('label', 'approval-always');
  const always = el('input', '');
  always.type = 'checkbox';
  alwaysLabel.append(always, ' always');
  alwaysLabel.title = 'approve this exact request from this agent from now on (approve --always)';
  const yes = el('button', 'approve', 'approve');
  const no = el('button', 'deny', 'deny');
  yes.type = no.type = 'button';
  const answer = (what: string, call: () => Promise<{ approval: Approval }>) => {
    yes.disabled = no.disabled = true;
    call().then(
      (r) => onAnswered(a.id, `${a.id} ${r.approval.state}${what === 'approve' && always.checked ? ' (always)' : ''}`, false),
      (e: Error) => {
        yes.disabled = no.disabled = false;
        onAnswered(a.id, `${what} ${a.id} failed: ${e.message}`, true);
      },
    );
  };
  yes.addEventListener('click', () => answer('approve', () => approve(a.id, always.checked)));
  no.addEventListener('click', () => answer('deny', () => deny(a.id, reason.value.trim())));
  form.append(reason, alwaysLabel, yes, no);
  li.append(form);
  return li;
}

export function waitingText(created: number, expires: number, now: number): string {
  return `waiting ${formatDuration(Math.max(0, now - created))}, expires in ${formatDuration(Math.max(0, expires - now))}`;
}

/**
 * Follow the queue into `list`; `onChange` runs after every change (the fleet shows the
 * counts, the header the total). Reconnects after a drop and starts again from the
 * snapshot, so nothing is missed.
 */
export function followApprovals(section: HTMLElement, list: HTMLUListElement, status: HTMLElement, onChange: (pending: Approval[]) => void): void {
  const pending = new Map<string, Approval>();
  const say = (text: string, isError = false) => {
    status.textContent = text;
    status.classList.toggle('error', isError);
  };
  const render = () => {
    const shown = [...pending.values()].sort((a, b) => a.created - b.created);
    const cards = new Map([...list.querySelectorAll<HTMLElement>('li.approval')].map((li) => [li.dataset.approval!, li]));
    // Cards stay in place while their request is pending: a reason being typed is kept.
    list.replaceChildren(...shown.map((a) => cards.get(a.id) ?? card(a, (_id, message, isError) => say(message, isError))));
    section.hidden = shown.length === 0 && !status.textContent;
    tick();
    onChange(shown);
  };
  const tick = () => {
    const now = Date.now();
    for (const w of list.querySelectorAll<HTMLElement>('.approval-waiting')) w.textContent = waitingText(Number(w.dataset.created), Number(w.dataset.expires), now);
  };
  setInterval(tick, 1000);

  const connect = () => {
    const ws = new WebSocket(socketUrl('/v1/approvals/stream'));
    ws.addEventListener('message', (ev) => {
      const msg = JSON.parse(String(ev.data)) as { type: string; approvals?: Approval[]; approval?: Approval };
      if (msg.type === 'snapshot') {
        pending.clear();
        for (const a of msg.approvals ?? []) pending.set(a.id, a);
      } else if (msg.approval) {
        const a = msg.approval;
        if (a.state === 'pending') pending.set(a.id, a);
        else if (pending.delete(a.id) && a.by !== 'dashboard') say(`${a.id} (${a.agent}) ${a.state}${a.by ? ` by ${a.by}` : ''}`);
      }
      render();
    });
    ws.addEventListener('close', () => setTimeout(connect, 2000));
  };
  connect();
}
