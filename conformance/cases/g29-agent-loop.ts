import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Case, CaseContext, CustomResult } from '../case.js';
import { snapshotTree } from '../../test/support/fence-stage.js';
import { CLAUDE_BIN, claudeAvailable, claudeEnv, claudePrintArgs } from '../../test/support/claude-launch.js';
import { FINAL_TEXT, seedTaskRepo, siblingWriteProblems, taskProblems, taskScenario, TURN } from '../../test/support/claude-task.js';
import { runAsync } from '../../test/support/run-async.js';
import { startScriptedAnthropic, toolUseId } from '../../test/support/scripted-anthropic.js';

/**
 * A real agent loop: the real Claude Code CLI (the devDependency), driven offline by a
 * scripted model on 127.0.0.1, runs fenced with the claude preset in a task worktree of
 * its own repository: it reads and edits calc.js, writes a test, runs it with node,
 * commits both, then tries to write into a sibling worktree. The work must reach the host
 * (the files, the commit on agent/task-1); the sibling write must fail and leave the
 * sibling as it was. Skipped (n/a) where the claude binary is not installed.
 */
async function agentLoop(ctx: CaseContext): Promise<CustomResult[]> {
  const missing = claudeAvailable();
  const names = { work: 'claude reads, edits, writes, runs its test with node and commits', sibling: "claude's Bash write into a sibling worktree" };
  if (missing) {
    return [
      { name: names.work, outcome: 'n/a', detail: missing },
      { name: names.sibling, expect: 'content-writes', outcome: 'n/a', detail: missing },
    ];
  }
  const root = join(ctx.stage.root, 'conf-29');
  const repo = join(root, 'proj');
  mkdirSync(repo, { recursive: true });
  const env = { ...ctx.stage.env, GIT_AUTHOR_NAME: 'Agent', GIT_AUTHOR_EMAIL: 'agent@example.test', GIT_COMMITTER_NAME: 'Agent', GIT_COMMITTER_EMAIL: 'agent@example.test' };
  const baseCommit = seedTaskRepo(repo, env);
  for (const task of ['task-1', 'task-2']) execFileSync(process.execPath, [ctx.cli, 'worktree', 'add', task], { cwd: repo, env, stdio: 'ignore' });
  const ws = join(root, 'proj-task-1');
  const sibling = join(root, 'proj-task-2');
  const siblingBefore = snapshotTree(sibling);
  const model = await startScriptedAnthropic(taskScenario(ws, sibling));
  try {
    const argv = [ctx.cli, 'run', '--backend', ctx.backend, '--preset', 'claude', '--workspace', ws, '--', CLAUDE_BIN, ...claudePrintArgs('Fix add in calc.js, test it, commit.', { allowedTools: ['Read', 'Edit', 'Write', 'Bash'] })];
    const r = await runAsync(process.execPath, argv, { cwd: ws, env: { ...env, ...claudeEnv(model.url) }, timeoutMs: 240_000 });
    const ran = `celistra run exited ${r.status}${r.timedOut ? ' (timed out)' : ''}: ${r.stdout.trim().slice(-120)} ${r.stderr.trim().slice(-300)}`;
    const problems = taskProblems(model, ws, 'agent/task-1', { baseCommit });
    if (r.stdout.trim() !== FINAL_TEXT) problems.unshift(ran);
    const sib = model.toolResult(toolUseId(TURN.sibling, 0));
    const siblingNow = snapshotTree(sibling);
    const escaped = JSON.stringify(siblingNow) !== JSON.stringify(siblingBefore) || (sib !== undefined && !sib.isError);
    const siblingDetail = siblingWriteProblems(model, siblingNow, siblingBefore);
    return [
      { name: names.work, outcome: problems.length ? 'denied' : 'held', detail: problems.length ? problems.join('; ') : `done, committed on agent/task-1 (${ran})` },
      {
        name: names.sibling,
        expect: 'content-writes',
        outcome: escaped ? 'escaped' : sib ? 'held' : 'n/a',
        detail: siblingDetail.length ? siblingDetail.join('; ') : `refused, and the model was told: ${sib?.text.trim().slice(0, 200)}`,
      },
    ];
  } finally {
    await model.close();
  }
}

const c: Case = {
  id: '29',
  title: 'a real agent loop: claude, driven by a scripted model, fixes a bug, runs its test and commits; its write into a sibling worktree fails',
  section: 'G',
  expect: 'allow',
  custom: agentLoop,
};
export default c;
