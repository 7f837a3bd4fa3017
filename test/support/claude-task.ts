/**
 * The task the scripted model gives the real claude in the agent-loop tests, the
 * conformance case G29 and the benchmark: fix a bug in `calc.js` of a git repository,
 * write a test for it, run the test with node, commit both, then try to write into a
 * sibling worktree (which the fence must refuse). Host-side checks return what is wrong,
 * so a test asserts an empty list and the conformance case reports the first problem.
 *
 *   seedTaskRepo(repo, env)                      // calc.js (buggy) committed on main
 *   const scenario = taskScenario(ws, sibling)   // the model's turns (absolute paths)
 *   taskProblems(model, ws, branch, { baseCommit }) // [] when every effect is on the host
 *   siblingWriteProblems(model, sibling, before)    // [] when the write failed, was reported, left no trace
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { toolUseId, type Scenario, type ScriptedAnthropic } from './scripted-anthropic.js';

export const BUGGY_CALC = 'exports.add = (a, b) => a - b;\n';
export const FIXED_CALC = 'exports.add = (a, b) => a + b;\n';
export const CALC_TEST = "const { add } = require('./calc.js');\nif (add(2, 40) !== 42) { console.error('add is broken'); process.exit(1); }\nconsole.log('ok: add(2, 40) = 42');\n";
export const COMMIT_MESSAGE = 'Fix add and test it';
export const FINAL_TEXT = 'Task complete.';
/** What the sibling write puts there: its appearance on the host is a breach. */
export const PLANTED = 'planted by another agent';

/** The turn indexes of the task, for reading their tool results. */
export const TURN = { read: 0, edit: 1, write: 2, test: 3, commit: 4, sibling: 5 } as const;

/** A git repository's first commit on `main`: `calc.js` with the bug. `env` carries the git identity. */
export function seedTaskRepo(repo: string, env: Record<string, string>): string {
  const git = (...args: string[]) => execFileSync('git', args, { cwd: repo, env, encoding: 'utf8' }).trim();
  git('init', '-q', '-b', 'main');
  writeFileSync(join(repo, 'calc.js'), BUGGY_CALC);
  writeFileSync(join(repo, 'README'), 'a calculator\n');
  git('add', 'calc.js', 'README');
  git('commit', '-q', '-m', 'calc with a bug');
  return git('rev-parse', 'HEAD');
}

/** The model's turns: Read, Edit, Write, Bash (node runs the test), Bash (git commit), and optionally Bash (write into `sibling`). */
export function taskScenario(ws: string, sibling?: string): Scenario {
  const turns: Scenario['turns'] = [
    { text: 'Let me look at calc.js.', tools: [{ name: 'Read', input: { file_path: join(ws, 'calc.js') } }] },
    { text: 'add subtracts: fixing it.', tools: [{ name: 'Edit', input: { file_path: join(ws, 'calc.js'), old_string: 'a - b', new_string: 'a + b' } }] },
    { tools: [{ name: 'Write', input: { file_path: join(ws, 'calc.test.js'), content: CALC_TEST } }] },
    { tools: [{ name: 'Bash', input: { command: 'node calc.test.js', description: 'Run the test' } }] },
    { tools: [{ name: 'Bash', input: { command: `git add calc.js calc.test.js && git commit -q -m '${COMMIT_MESSAGE}' && git log -1 --format=%s`, description: 'Commit' } }] },
  ];
  if (sibling) turns.push({ tools: [{ name: 'Bash', input: { command: `echo '${PLANTED}' > ${join(sibling, 'calc.js')}`, description: 'Write into the other worktree' } }] });
  return { turns, finalText: FINAL_TEXT };
}

function git(ws: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd: ws, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

/**
 * What is missing on the host after the task ran in `ws`: the files, the tool results
 * the model got, and the commit on `branch` (its tree, its parent `baseCommit`, a clean
 * worktree after it). Read with the host's git from the workspace itself.
 */
export function taskProblems(model: ScriptedAnthropic, ws: string, branch: string, opts: { baseCommit: string }): string[] {
  const problems: string[] = [];
  const result = (turn: number) => model.toolResult(toolUseId(turn, 0));
  for (const [name, turn] of Object.entries(TURN)) {
    if (name === 'sibling') continue;
    const r = result(turn);
    if (!r) problems.push(`the ${name} turn's result never reached the model`);
    else if (r.isError) problems.push(`the ${name} turn failed: ${r.text}`);
  }
  if (!result(TURN.read)?.text.includes('a - b')) problems.push(`Read did not return calc.js: ${result(TURN.read)?.text}`);
  if (!result(TURN.test)?.text.includes('ok: add(2, 40) = 42')) problems.push(`the test run did not report success: ${result(TURN.test)?.text}`);
  if (!result(TURN.commit)?.text.includes(COMMIT_MESSAGE)) problems.push(`the commit did not report itself: ${result(TURN.commit)?.text}`);
  const file = (p: string) => (existsSync(join(ws, p)) ? readFileSync(join(ws, p), 'utf8') : null);
  if (file('calc.js') !== FIXED_CALC) problems.push(`calc.js on the host: ${JSON.stringify(file('calc.js'))}`);
  if (file('calc.test.js') !== CALC_TEST) problems.push(`calc.test.js on the host: ${JSON.stringify(file('calc.test.js'))}`);
  try {
    if (git(ws, 'log', '-1', '--format=%s', branch) !== COMMIT_MESSAGE) problems.push(`${branch}'s last commit is "${git(ws, 'log', '-1', '--format=%s', branch)}"`);
    if (git(ws, 'rev-parse', `${branch}~1`) !== opts.baseCommit) problems.push(`${branch}'s commit does not sit on the base commit`);
    if (git(ws, 'show', `${branch}:calc.js`) + '\n' !== FIXED_CALC) problems.push(`calc.js in the commit: ${git(ws, 'show', `${branch}:calc.js`)}`);
    if (git(ws, 'show', `${branch}:calc.test.js`) + '\n' !== CALC_TEST) problems.push('calc.test.js in the commit differs');
    if (git(ws, 'ls-tree', '--name-only', branch).split('\n').sort().join(' ') !== 'README calc.js calc.test.js') problems.push(`the commit's tree: ${git(ws, 'ls-tree', '--name-only', branch)}`);
    if (git(ws, 'status', '--porcelain') !== '') problems.push(`uncommitted changes left: ${git(ws, 'status', '--porcelain')}`);
  } catch (e) {
    problems.push(`host git in ${ws}: ${(e as Error).message}`);
  }
  return problems;
}

/**
 * What shows the sibling write got anywhere: it must have failed, the model must have been
 * told so (the tool's error naming a denial), and `sibling` must be exactly as `before`
 * (a snapshot taken with `snapshot` before the run).
 */
export function siblingWriteProblems(model: ScriptedAnthropic, siblingNow: unknown, siblingBefore: unknown): string[] {
  const problems: string[] = [];
  const r = model.toolResult(toolUseId(TURN.sibling, 0));
  if (!r) problems.push("the sibling write's result never reached the model");
  else {
    if (!r.isError) problems.push(`the sibling write was reported as a success: ${r.text}`);
    if (!/Read-only file system|Permission denied|Operation not permitted|No such file or directory/i.test(r.text)) problems.push(`the model was not told the write was denied: ${r.text}`);
  }
  if (JSON.stringify(siblingNow) !== JSON.stringify(siblingBefore)) problems.push('the sibling worktree changed on the host');
  return problems;
}
