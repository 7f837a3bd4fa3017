// A task's diff view: the files it changed against its base (+/-), the patch, and
// "pull into base" — GET /v1/agents/:name/diff and POST /v1/agents/:name/pull, the same
// code as `celistra diff` and `celistra pull`. Everything is set as text, never markup.
import { pullTask, taskDiff, type TaskDiff } from './api.js';

function cell(row: HTMLTableRowElement, text: string, className?: string): void {
  const td = row.insertCell();
  td.textContent = text;
  if (className) td.className = className;
}

export function diffSummary(d: TaskDiff): string {
  const files = d.files.length + d.filesOmitted;
  return `${d.branch}: ${files} file${files === 1 ? '' : 's'} changed, +${d.added} -${d.removed}`;
}

/** Fill the view from a diff: a file table, the patch with +/- lines marked, the notes. */
export function renderDiff(view: HTMLElement, d: TaskDiff): void {
  view.querySelector('.diff-summary')!.textContent = diffSummary(d);
  const rows = view.querySelector<HTMLTableSectionElement>('.diff-files tbody')!;
  rows.replaceChildren();
  for (const f of d.files) {
    const tr = rows.insertRow();
    cell(tr, f.added === null ? 'bin' : `+${f.added}`, 'added');
    cell(tr, f.removed === null ? '' : `-${f.removed}`, 'removed');
    cell(tr, f.path, 'path');
  }
  const notes: string[] = [];
  if (d.filesOmitted > 0) notes.push(`${d.filesOmitted} more files not listed.`);
  if (d.truncated) notes.push(`The patch is ${d.patchBytes} bytes, too big to show whole: the first ${new TextEncoder().encode(d.patch).length} are shown; the counts above are for all of it. \`celistra diff ${d.task}\` prints all of it.`);
  if (d.nested.length) notes.push(`Nested repositories (not in this diff; their config is the agent's: read them before running git in them): ${d.nested.join(', ')}.`);
  if (d.files.length === 0) notes.push('No changes against the base.');
  view.querySelector('.diff-notes')!.textContent = notes.join(' ');
  const patch = view.querySelector<HTMLElement>('.diff-patch')!;
  // One span per line, classed by its first character: colour without parsing into markup.
  const lines = d.patch.split('\n');
  patch.replaceChildren(
    ...lines.map((l) => {
      const span = document.createElement('span');
      span.textContent = `${l}\n`;
      if (l.startsWith('+') && !l.startsWith('+++')) span.className = 'add';
      else if (l.startsWith('-') && !l.startsWith('---')) span.className = 'del';
      else if (l.startsWith('@@')) span.className = 'hunk';
      else if (l.startsWith('diff --git')) span.className = 'file';
      return span;
    }),
  );
}

export interface DiffView {
  load(name: string): Promise<void>;
}

/** The diff section of the agent panel; `say` reports on the panel's status line. */
export function setUpDiffView(view: HTMLElement, say: (text: string, isError?: boolean) => void): DiffView {
  let current: string | undefined;
  const status = view.querySelector<HTMLElement>('.diff-status')!;
  const show = (text: string, isError = false) => {
    status.textContent = text;
    status.classList.toggle('error', isError);
  };
  const load = async (name: string) => {
    current = name;
    show(`reading ${name}'s diff…`);
    try {
      const d = await taskDiff(name);
      if (current !== name) return;
      renderDiff(view, d);
      show('');
    } catch (e) {
      if (current !== name) return;
      view.querySelector('.diff-summary')!.textContent = '';
      view.querySelector('.diff-files tbody')!.replaceChildren();
      view.querySelector('.diff-patch')!.replaceChildren();
      view.querySelector('.diff-notes')!.textContent = '';
      show((e as Error).message, true);
    }
  };
  view.querySelector('.diff-refresh')!.addEventListener('click', () => current && void load(current));
  view.querySelector('.pull')!.addEventListener('click', () => {
    const name = current;
    if (!name) return;
    const mode = view.querySelector<HTMLSelectElement>('.pull-mode')!.value;
    show(`pulling ${name} (${mode})…`);
    pullTask(name, mode).then(
      (r) => {
        const nested = r.nested.length ? `; nested repositories, review them: ${r.nested.join(', ')}` : '';
        show(`${r.branch} → ${r.into}: ${r.outcome} (${r.commit.slice(0, 12)})${nested}`);
        say(`pull: ${r.outcome}`);
        void load(name).then(() => show(`${r.branch} → ${r.into}: ${r.outcome} (${r.commit.slice(0, 12)})${nested}`));
      },
      (e: Error) => show(`pull refused: ${e.message}`, true),
    );
  });
  return { load };
}
