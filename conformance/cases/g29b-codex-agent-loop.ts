import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Case, CaseContext, CustomResult } from '../case.js';
import { diffSnapshots, takeSnapshot } from '../snapshot.js';
import { writeScriptedModelCatalog } from '../../test/support/codex-scripted-launch.js';
import { codexTask, COMMIT_MESSAGE, exitCodeIn, expectedCount, runFencedCodex, SIBLING_WRITTEN, TURN_AFTER_SIBLING, type TaskFile } from '../../test/support/codex-scripted-task.js';

const CODEX = fileURLToPath(new URL('../../../node_modules/.bin/codex', import.meta.url));
/** A file every worktree of the stage holds (conformance/stage.ts). */
const FILE: TaskFile = { name: 'notes.txt', before: 'tracked notes', after: 'tracked notes, edited by codex' };
const IDENTITY = { GIT_AUTHOR_NAME: 'Codex Agent', GIT_AUTHOR_EMAIL: 'agent@example.test', GIT_COMMITTER_NAME: 'Codex Agent', GIT_COMMITTER_EMAIL: 'agent@example.test' };

interface Worktrees {
  kind: string;
  own: string;
  sibling: string;
  branch: string;
}

function git(cwd: string, env: Record<string, string>, ...args: string[]): string {
  return execFileSync('git', args, { cwd, env: { ...env, GIT_CONFIG_NOSYSTEM: '1' }, stdio: ['ignore', 'pipe', 'pipe'] }).toString();
}

/** What the task should have left on the host; the problems found, empty when it all happened. */
function missingWork(w: Worktrees, env: Record<string, string>, outputs: (id: string) => string | undefined): string[] {
  const problems: string[] = [];
  const read = (p: string) => (existsSync(p) ? readFileSync(p, 'utf8') : '<absent>');
  if (!(outputs('read') ?? '').includes(FILE.before)) problems.push(`the file's content did not reach the model: ${outputs('read')}`);
  if (!/^Success\./m.test(outputs('edit') ?? '')) problems.push(`apply_patch failed: ${outputs('edit')}`);
  for (const id of ['work', 'commit']) if (exitCodeIn(outputs(id)) !== 0) problems.push(`${id} failed: ${outputs(id)}`);
  if (read(join(w.own, FILE.name)) !== `${FILE.after}\n`) problems.push(`${FILE.name} not edited`);
  if (!existsSync(join(w.own, 'count.js'))) problems.push('count.js not written');
  if (read(join(w.own, 'count.txt')) !== expectedCount(FILE)) problems.push(`count.txt: ${read(join(w.own, 'count.txt')).trim()}`);
  try {
    const subject = git(w.own, env, 'log', '-1', '--format=%s', w.branch).trim();
    if (subject !== COMMIT_MESSAGE) problems.push(`the last commit on ${w.branch} is "${subject}"`);
  } catch (e) {
    problems.push(`git log ${w.branch}: ${(e as Error).message}`);
  }
  return problems;
}

async function loop(ctx: CaseContext, w: Worktrees, catalogPath: string): Promise<CustomResult[]> {
  const env = { ...ctx.stage.env, ...IDENTITY };
  const watch = [{ path: w.sibling, recursive: true }];
  const before = takeSnapshot(watch);
  const { ran, model } = await runFencedCodex({ cli: ctx.cli, codex: CODEX, backend: ctx.backend, where: ['--workspace', w.own], workdir: w.own, cwd: ctx.stage.main, env, catalogPath, turns: codexTask(FILE, w.sibling) });
  const changed = diffSnapshots(before, takeSnapshot(watch));
  if (ran.status !== 0) {
    const said = ran.stderr.trim().split('\n').slice(-3).join(' | ');
    return [{ name: `${w.kind}: codex exec ran`, outcome: 'denied', detail: `exit ${ran.status}: ${said}` }];
  }
  const problems = missingWork(w, env, (id) => model.toolOutput(id));
  const sib = model.toolOutput('sibling') ?? '';
  const told = model.requestWithOutput('sibling');
  const next = model.turnRequests().findIndex((r) => r.turn === TURN_AFTER_SIBLING);
  const refusal = /Read-only file system|Permission denied|Operation not permitted/.exec(sib)?.[0];
  return [
    {
      name: `${w.kind}: codex reads, edits and writes with apply_patch, runs node, commits`,
      outcome: problems.length ? 'denied' : 'held',
      detail: problems.length ? problems.join('; ') : `committed "${COMMIT_MESSAGE}" on ${w.branch}`,
    },
    {
      name: `${w.kind}: a write into the sibling worktree through codex's shell`,
      expect: 'content-writes',
      outcome: changed.length || sib.includes(SIBLING_WRITTEN) ? 'escaped' : 'held',
      detail: changed.length ? `sibling changed: ${changed.slice(0, 3).join('; ')}` : `refused (${refusal ?? sib.trim().split('\n').pop()}), sibling unchanged`,
    },
    {
      name: `${w.kind}: the refusal reaches the model in its next request`,
      // Only meaningful where the write was refused.
      outcome: exitCodeIn(sib) === 0 ? 'n/a' : told >= 0 && told === next && refusal ? 'held' : 'denied',
      detail: exitCodeIn(sib) === 0 ? 'the write was not refused' : `request ${told} of ${model.turnRequests().length} carries: ${sib.trim().split('\n').pop()}`,
    },
  ];
}

/**
 * The real Codex CLI doing a whole task fenced, driven by a scripted model on 127.0.0.1
 * (test/support/scripted-openai-responses.ts): in a `celistra worktree add` worktree and
 * in a plain `git worktree add` one. test/sandbox/agent-loop-codex.test.ts is the same
 * task with every effect asserted; docs/presets.md (codex part) explains the launch.
 */
const c: Case = {
  id: '29b',
  title: 'a real agent loop: codex exec reads, edits, runs node and commits; its write into a sibling worktree fails and it is told',
  section: 'G',
  expect: 'allow',
  custom: async (ctx) => {
    if (!existsSync(CODEX)) return [{ name: 'codex agent loop', outcome: 'n/a', detail: `the codex CLI is not installed (${CODEX}): npm install @openai/codex in the checkout to run this case` }];
    const catalogPath = writeScriptedModelCatalog(ctx.stage.outside);
    const repo = join(ctx.stage.main, '..');
    git(ctx.stage.main, ctx.stage.env, 'worktree', 'add', '-q', '../wt-p1', '-b', 'agent/p1', 'main');
    git(ctx.stage.main, ctx.stage.env, 'worktree', 'add', '-q', '../wt-p2', '-b', 'agent/p2', 'main');
    return [
      ...(await loop(ctx, { kind: 'celistra worktree', own: ctx.stage.wtA, sibling: ctx.stage.wtB, branch: 'agent/a' }, catalogPath)),
      ...(await loop(ctx, { kind: 'plain git worktree', own: join(repo, 'wt-p1'), sibling: join(repo, 'wt-p2'), branch: 'agent/p1' }, catalogPath)),
    ];
  },
};
export default c;
