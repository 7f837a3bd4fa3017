/**
 * Claude Code's interactive mode does the same real work inside the fence: `celistra run
 * --preset claude` in a PTY (the run gets a terminal when its stdin is one), the task
 * given as the first message, the scripted model playing the turns. Its config dir is
 * made by a first fenced run and then seeded as a user who has onboarded would have it
 * (test/support/claude-launch.ts, seedClaudeConfig), so it starts straight at the prompt.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import xtermHeadless from '@xterm/headless';
import { expandHome } from '../../src/policy/policy.js';
import { PRESETS } from '../../src/policy/presets/catalog.js';
import { agentStateDirPath } from '../../src/policy/presets/state-dir.js';
import { CELISTRA_BIN } from '../support/celistra-cli.js';
import { CLAUDE_BIN, claudeEnv, claudeInteractiveArgs, seedClaudeConfig } from '../support/claude-launch.js';
import { FINAL_TEXT, siblingWriteProblems, taskProblems, taskScenario } from '../support/claude-task.js';
import { snapshotTree } from '../support/fence-stage.js';
import { startScriptedAnthropic, type ScriptedAnthropic } from '../support/scripted-anthropic.js';
import { ALL_TOOLS, loopStage, protectedEntries, seededEntries, skipReason, type LoopStage } from './agent-loop-stage.js';

/** The first Linux backend usable here: the interactive mode is proven once, not per backend. */
function pickBackend(): { backend?: 'landlock' | 'bwrap'; skip: string | false } {
  const reasons: string[] = [];
  for (const backend of ['landlock', 'bwrap'] as const) {
    const why = skipReason(backend);
    if (!why) return { backend, skip: false };
    reasons.push(why);
  }
  return { skip: reasons.join('; ') };
}

function screenText(term: InstanceType<typeof xtermHeadless.Terminal>): string {
  const buf = term.buffer.active;
  const lines: string[] = [];
  for (let y = 0; y < buf.length; y++) lines.push(buf.getLine(y)?.translateToString(true) ?? '');
  return lines.join('\n');
}

const { backend, skip } = pickBackend();

describe(`claude's interactive mode under ${backend ?? 'a Linux backend'}, in a PTY through celistra run`, { skip }, () => {
  let stage: LoopStage;
  let model: ScriptedAnthropic;
  let siblingBefore: unknown;
  let finalScreen = '';

  before(async () => {
    stage = loopStage('celistra-worktree');
    siblingBefore = snapshotTree(stage.sibling);
    model = await startScriptedAnthropic(taskScenario(stage.ws, stage.sibling));
    const base = [CELISTRA_BIN, 'run', '--backend', backend!, '--preset', 'claude', '--workspace', stage.ws, '--'];
    // The first fenced run makes (and records) the agent's config dir; then it is seeded.
    const made = spawnSync(process.execPath, [...base, 'true'], { cwd: stage.ws, env: stage.env, encoding: 'utf8' });
    assert.equal(made.status, 0, made.stderr);
    seedClaudeConfig(agentStateDirPath(expandHome(PRESETS.claude!.stateDir!.base, stage.home), stage.ws), { trustedDirs: [stage.ws] });

    const pty = await import('node-pty');
    const term = new xtermHeadless.Terminal({ cols: 120, rows: 40, scrollback: 2000, allowProposedApi: true });
    const child = pty.spawn(process.execPath, [...base, CLAUDE_BIN, ...claudeInteractiveArgs('Fix add in calc.js, test it, commit.', { allowedTools: ALL_TOOLS })], {
      cols: 120,
      rows: 40,
      cwd: stage.ws,
      env: { ...stage.env, ...claudeEnv(model.url) },
    });
    let exited = false;
    const exit = new Promise<void>((resolve) => child.onExit(() => ((exited = true), resolve())));
    child.onData((d) => term.write(d));
    const turns = taskScenario(stage.ws, stage.sibling).turns.length;
    try {
      const deadline = Date.now() + 180_000;
      // Done when the model has served the last reply and it is on the screen.
      while (!(model.agentRequests().length > turns && screenText(term).includes(FINAL_TEXT))) {
        if (exited || Date.now() > deadline) assert.fail(`claude ${exited ? 'exited' : 'timed out'} before finishing the task; screen:\n${screenText(term)}`);
        await new Promise((r) => setTimeout(r, 200));
      }
      finalScreen = screenText(term);
      child.write('/exit\r');
      await Promise.race([exit, new Promise((r) => setTimeout(r, 10_000))]);
    } finally {
      if (!exited) child.kill('SIGKILL');
      term.dispose();
    }
  });
  after(() => model?.close());

  test('started at the prompt with the task: no onboarding, trust or API-key screen', () => {
    assert.doesNotMatch(finalScreen, /trust this folder|Choose the text style|Do you want to use this API key/i);
    assert.match(finalScreen, /Fix add in calc\.js/);
  });

  test('the agent reads and edits calc.js, writes a test, runs it with node and commits both on its branch', () => {
    assert.deepEqual(taskProblems(model, stage.ws, stage.branch, { baseCommit: stage.baseCommit }), []);
  });

  test("the agent's write into a sibling worktree fails, the model is told, and the sibling is unchanged", () => {
    assert.deepEqual(siblingWriteProblems(model, snapshotTree(stage.sibling), siblingBefore), []);
  });

  test('the entries the preset protects still hold its seeds', () => {
    assert.deepEqual(protectedEntries(stage), seededEntries());
  });
});
