// The spawn dialog: the fields of POST /v1/agents (docs/api.md). The command is one
// argument per line — the API never splits strings, so neither does the page.
import { spawnAgent, type Agent } from './api.js';

/** KEY=VALUE lines into an object; a line without `=` is an error naming it. */
export function parseEnvLines(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const eq = line.indexOf('=');
    if (eq <= 0) throw new Error(`environment line "${line}" is not KEY=VALUE`);
    env[line.slice(0, eq).trim()] = line.slice(eq + 1);
  }
  return env;
}

/** One path per line, blank lines skipped; a path is kept as typed (spaces inside it included). */
export function pathLines(text: string): string[] {
  return text.split('\n').filter((l) => l.trim().length > 0);
}

/** The request body for the form's fields: empty fields are left out, so the daemon's defaults apply. */
export function spawnRequest(form: HTMLFormElement): Record<string, unknown> {
  const field = (name: string) => (form.elements.namedItem(name) as HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement).value.trim();
  const argv = (form.elements.namedItem('argv') as HTMLTextAreaElement).value.split('\n').filter((a) => a.length > 0);
  if (argv.length === 0) throw new Error('the command is required: one argument per line');
  const body: Record<string, unknown> = { argv, backend: field('backend'), autoRestart: (form.elements.namedItem('autoRestart') as HTMLInputElement).checked };
  for (const key of ['name', 'workspace', 'worktree', 'repo', 'preset']) if (field(key)) body[key] = field(key);
  const env = parseEnvLines((form.elements.namedItem('env') as HTMLTextAreaElement).value);
  if (Object.keys(env).length) body.env = env;
  // The fence, as `ctl spawn --net/--allow-unix-sockets/--allow-write/--deny-read/--allow-read`:
  // the daemon checks each value and its refusal is shown in the form.
  body.network = field('network') || 'on';
  body.unixSockets = (form.elements.namedItem('allowUnixSockets') as HTMLInputElement).checked ? 'allow' : 'deny';
  for (const key of ['allowWrite', 'denyRead', 'allowRead']) {
    const paths = pathLines((form.elements.namedItem(key) as HTMLTextAreaElement).value);
    if (paths.length) body[key] = paths;
  }
  // Limits as `--max-procs/--memory/--cpu` give them: strings the daemon parses (policy/limits.ts).
  for (const key of ['maxProcs', 'memory', 'cpu']) if (field(key)) body[key] = field(key);
  // As `ctl spawn --approve/--auto-allow/--auto-deny`: left out when it is the default
  // (every request to a person); the daemon checks the patterns (approvals/rules.ts).
  const ask = pathLines((form.elements.namedItem('approvalsAsk') as HTMLTextAreaElement).value).map((p) => p.trim());
  const otherwise = field('approvalsOtherwise') || 'person';
  if (ask.length || otherwise !== 'person') body.approvals = { ask, otherwise };
  // As `--allow-terminal`: none unless ticked.
  const terminalAllow = [...form.querySelectorAll<HTMLInputElement>('input[name=terminalAllow]:checked')].map((i) => i.value);
  if (terminalAllow.length) body.terminalAllow = terminalAllow;
  return body;
}

export function setUpSpawnDialog(dialog: HTMLDialogElement, openButton: HTMLElement, onSpawned: (agent: Agent) => void): void {
  const form = dialog.querySelector('form')!;
  const error = dialog.querySelector<HTMLElement>('#spawn-error')!;
  openButton.addEventListener('click', () => {
    error.textContent = '';
    dialog.showModal();
  });
  form.addEventListener('submit', (ev) => {
    if ((ev.submitter as HTMLButtonElement | null)?.value !== 'spawn') return;
    // The dialog stays open until the daemon has answered: a refusal is shown in it.
    ev.preventDefault();
    let body: Record<string, unknown>;
    try {
      body = spawnRequest(form);
    } catch (e) {
      error.textContent = (e as Error).message;
      return;
    }
    error.textContent = 'spawning…';
    spawnAgent(body).then(
      (agent) => {
        error.textContent = '';
        form.reset();
        dialog.close();
        onSpawned(agent);
      },
      (e: Error) => (error.textContent = `spawn refused: ${e.message}`),
    );
  });
}
