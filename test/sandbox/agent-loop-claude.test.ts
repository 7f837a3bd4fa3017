/**
 * The real Claude Code CLI does real work inside the fence. Driven by the scripted model
 * (test/support/scripted-anthropic.ts) through `celistra run --preset claude -- claude
 * --print`, under each Linux backend and in each workspace layout, it reads and edits a
 * file, writes a new one, runs a node test, commits both on its branch: every effect is
 * checked on the host. Its write into a sibling worktree must fail, the model must be told
 * so in the tool's error, and the sibling must be unchanged. Its config dir's protected
 * entries must still hold the preset's seeds: protecting them broke no tool it used.
 * The interactive mode and the daemon are in agent-loop-claude-tui / -daemon.test.ts.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { CELISTRA_BIN } from '../support/celistra-cli.js';
import { CLAUDE_BIN, claudeEnv, claudePrintArgs } from '../support/claude-launch.js';
import { COMMIT_MESSAGE, FINAL_TEXT, FIXED_CALC, siblingWriteProblems, taskProblems, taskScenario } from '../support/claude-task.js';
import { snapshotTree } from '../support/fence-stage.js';
import { runAsync, type AsyncRunResult } from '../support/run-async.js';
import { startScriptedAnthropic, type ScriptedAnthropic } from '../support/scripted-anthropic.js';
import { ALL_TOOLS, LAYOUTS, loopStage, protectedEntries, seededEntries, skipReason, type Layout, type LoopStage } from './agent-loop-stage.js';

for (const backend of ['landlock', 'bwrap'] as const) {
  for (const layout of Object.keys(LAYOUTS) as Layout[]) {
    describe(`claude --print under ${backend} in ${LAYOUTS[layout]}`, { skip: skipReason(backend) }, () => {
      let stage: LoopStage;
      let model: ScriptedAnthropic;
      let run: AsyncRunResult;
      let siblingBefore: unknown;

      before(async () => {
        stage = loopStage(layout);
        siblingBefore = snapshotTree(stage.sibling);
        model = await startScriptedAnthropic(taskScenario(stage.ws, stage.sibling));
        const argv = [CELISTRA_BIN, 'run', '--backend', backend, '--preset', 'claude', '--workspace', stage.ws, '--', CLAUDE_BIN, ...claudePrintArgs('Fix add in calc.js, test it, commit.', { allowedTools: ALL_TOOLS })];
        run = await runAsync(process.execPath, argv, { cwd: stage.ws, env: { ...stage.env, ...claudeEnv(model.url) }, timeoutMs: 240_000 });
      });
      after(() => model?.close());

      test('the agent reads and edits calc.js, writes a test, runs it with node and commits both on its branch', () => {
        assert.equal(run.timedOut, false, 'claude did not finish');
        assert.equal(run.status, 0, run.stderr);
        assert.equal(run.stdout.trim(), FINAL_TEXT);
        assert.deepEqual(taskProblems(model, stage.ws, stage.branch, { baseCommit: stage.baseCommit }), []);
      });

      test("the agent's write into a sibling worktree fails, the model is told, and the sibling is unchanged", () => {
        assert.deepEqual(siblingWriteProblems(model, snapshotTree(stage.sibling), siblingBefore), []);
      });

      test('the entries the preset protects still hold its seeds: the tools needed none of them', () => {
        assert.deepEqual(protectedEntries(stage), seededEntries());
      });

      if (layout === 'plain-worktree') {
        test("the seed's git fetch brings the agent's commit into the main repository, and git worktree remove works", () => {
          const git = (...args: string[]) => execFileSync('git', args, { cwd: stage.repo, env: stage.env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
          git('fetch', '-q', '../proj-task-1', 'agent/task-1:agent/task-1');
          assert.equal(git('log', '-1', '--format=%s', 'agent/task-1'), COMMIT_MESSAGE);
          assert.equal(git('show', 'agent/task-1:calc.js') + '\n', FIXED_CALC);
          git('worktree', 'remove', '../proj-task-1');
          assert.equal(existsSync(stage.ws), false);
        });
      }
    });
  }
}
