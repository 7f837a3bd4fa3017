/**
 * The seed's flow under the daemon, verbatim but for the scripted model and the allowed
 * tools: three `git worktree add ../proj-task-N -b agent/task-N main` worktrees (and the
 * same with `celistra worktree add task-N`), three
 * `ctl spawn --workspace ../proj-task-N --auto-restart 'claude --print "..."'` (the claude
 * preset comes by default, the model's endpoint and key through `--env`), three commits on
 * three branches, no write into the main checkout, and the seed's `git fetch` brings all
 * three home.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import type { AgentSummary } from '../../src/daemon/agent-spec.js';
import { celistraPaths } from '../../src/policy/paths.js';
import { DaemonClient } from '../../src/daemon/client.js';
import { CLAUDE_BIN, claudeEnv } from '../support/claude-launch.js';
import { COMMIT_MESSAGE, FINAL_TEXT, FIXED_CALC, siblingWriteProblems, taskProblems, taskScenario } from '../support/claude-task.js';
import { startScriptedAnthropic, type ScriptedAnthropic } from '../support/scripted-anthropic.js';
import { agent, CLI_MAIN, cleanup, sleep, startDaemonProcess, waitFor, type DaemonProcess, type Sandbox } from '../daemon-harness.js';
import { checkoutSnapshot, loopStage, skipReason, type LoopStage } from './agent-loop-stage.js';

const TASKS = ['task-1', 'task-2', 'task-3'];
const backend = skipReason('landlock') ? 'bwrap' : 'landlock';

for (const layout of ['plain-worktree', 'celistra-worktree'] as const) describe(`three claude agents under the daemon (${backend}), one per ${layout === 'plain-worktree' ? 'plain' : 'celistra'} worktree`, { skip: skipReason(backend) }, () => {
  let stage: LoopStage;
  let sb: Sandbox;
  let daemon: DaemonProcess;
  const models = new Map<string, ScriptedAnthropic>();
  const summaries = new Map<string, AgentSummary>();
  let mainBefore: unknown;

  before(async () => {
    // task-1 and task-2 come with the stage; task-3 is made the same way.
    stage = loopStage(layout);
    if (layout === 'plain-worktree') execFileSync('git', ['worktree', 'add', '-q', '../proj-task-3', '-b', 'agent/task-3', 'main'], { cwd: stage.repo, env: stage.env, stdio: 'ignore' });
    else execFileSync(process.execPath, [CLI_MAIN, 'worktree', 'add', 'task-3'], { cwd: stage.repo, env: stage.env, stdio: 'ignore' });
    mainBefore = checkoutSnapshot(stage.repo);
    const paths = celistraPaths(stage.env);
    sb = { root: stage.root, workspace: stage.ws, env: stage.env, paths, client: new DaemonClient(paths) };
    daemon = await startDaemonProcess(sb);
    for (const task of TASKS) {
      const ws = join(stage.root, `proj-${task}`);
      const model = await startScriptedAnthropic(taskScenario(ws, stage.repo));
      models.set(task, model);
      const envFlags = Object.entries(claudeEnv(model.url)).flatMap(([k, v]) => ['--env', `${k}=${v}`]);
      const command = `'${CLAUDE_BIN}' --print --allowedTools Read Edit Write Bash -- "Fix add in calc.js, test it, commit."`;
      const where = layout === 'plain-worktree' ? ['--workspace', `../proj-${task}`] : ['--worktree', task];
      const r = spawnSync(process.execPath, [CLI_MAIN, 'ctl', 'spawn', '--backend', backend, ...where, '--auto-restart', ...envFlags, '--json', command], { cwd: stage.repo, env: stage.env, encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(JSON.parse(r.stdout).name, task);
    }
    for (const task of TASKS) {
      summaries.set(task, await waitFor(`${task} to finish`, async () => {
        // Polled gently: three agents and their fences share two cores with the daemon.
        await sleep(500);
        const a = await agent(sb, task);
        return a.state === 'running' || a.state === 'restarting' ? undefined : a;
      }, 300_000));
    }
  });
  after(async () => {
    for (const m of models.values()) await m.close();
    if (sb) await cleanup(sb, daemon);
  });

  test('each agent runs with the claude preset, fenced, and exits 0 with the final answer', async () => {
    for (const task of TASKS) {
      const a = summaries.get(task)!;
      assert.equal(a.preset, 'claude', task);
      assert.equal(a.backend, backend, task);
      assert.equal(a.state, 'exited', task);
      assert.equal(a.lastExit?.code, 0, `${task}: ${(await sb.client.logs(task)).toString()}`);
      assert.equal(a.restarts, 0, task);
      assert.match((await sb.client.logs(task)).toString(), new RegExp(FINAL_TEXT.replace('.', '\\.')));
    }
  });

  test('each agent reads, edits, writes, runs its test and commits on its own branch', () => {
    for (const task of TASKS) {
      assert.deepEqual(taskProblems(models.get(task)!, join(stage.root, `proj-${task}`), `agent/${task}`, { baseCommit: stage.baseCommit }), [], task);
    }
  });

  test("each agent's write into the main checkout fails, the model is told, and the main checkout is unchanged", () => {
    for (const task of TASKS) assert.deepEqual(siblingWriteProblems(models.get(task)!, checkoutSnapshot(stage.repo), mainBefore), [], task);
  });

  test("the seed's git fetch brings all three branches home", () => {
    const git = (...args: string[]) => execFileSync('git', args, { cwd: stage.repo, env: stage.env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
    for (const task of TASKS) {
      git('fetch', '-q', `../proj-${task}`, `agent/${task}:agent/${task}`);
      assert.equal(git('log', '-1', '--format=%s', `agent/${task}`), COMMIT_MESSAGE, task);
      assert.equal(git('show', `agent/${task}:calc.js`) + '\n', FIXED_CALC, task);
    }
  });
});
