/**
 * The real Codex CLI's interactive TUI does work inside the fence: started as a user
 * would, in a PTY, as `celistra run --preset codex --worktree task-1 -- codex <provider
 * flags>`, it must reach its prompt without a folder-trust screen it cannot get past (the
 * answer is saved in config.toml, which the preset keeps read-only: the preset's seed
 * trusts the agent's own workspace), take a task typed at the prompt, run the scripted
 * model's shell command, and show the model's last words. docs/presets.md, codex part.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import xtermHeadless from '@xterm/headless';
import { isWithin } from '../../src/policy/path-within.js';
import { CELISTRA_BIN } from '../support/celistra-cli.js';
import { execCommand, startScriptedResponses } from '../support/scripted-openai-responses.js';
import { scriptedProviderOverrides, writeScriptedModelCatalog } from '../support/codex-scripted-launch.js';
import { exitCodeIn } from '../support/codex-scripted-task.js';
import { celistra, makeRepo, scratch } from '../worktree-fixture.js';
import { taskWorktreeSkip } from '../support/fence-skip.js';

const CODEX_BIN = fileURLToPath(new URL('../../../node_modules/.bin/codex', import.meta.url));
const CODEX_MISSING = existsSync(CODEX_BIN) ? false : `the codex CLI is not installed (${CODEX_BIN}): npm install`;
/** As in agent-loop-codex.test.ts: a codex under /tmp needs the stage under /tmp. */
const STAGE_PARENT = existsSync(CODEX_BIN) && isWithin(realpathSync(CODEX_BIN), '/tmp') ? '/tmp' : '/var/tmp';
const LAST_WORDS = 'All done from the interactive session';

function screenText(term: xtermHeadless.Terminal): string {
  const buf = term.buffer.active;
  const lines: string[] = [];
  for (let i = 0; i < buf.length; i++) lines.push(buf.getLine(i)?.translateToString(true) ?? '');
  return lines.join('\n');
}

for (const backend of ['landlock', 'bwrap'] as const) {
  const skip = CODEX_MISSING || taskWorktreeSkip(backend);

  test(`${backend}: interactive codex gets past folder trust to its prompt, and runs a typed task's command in its worktree`, { skip, timeout: 120_000 }, async () => {
    const { root, env } = scratch(`codex-tui-${backend}`, STAGE_PARENT);
    env.LANG = 'C.UTF-8';
    env.TERM = 'xterm-256color';
    const repo = makeRepo({ root, env }, 'p');
    const added = celistra(['worktree', 'add', 'task-1'], repo, env);
    assert.equal(added.status, 0, added.stderr);
    const own = join(root, 'p-task-1');

    const model = await startScriptedResponses([{ calls: [execCommand('run', 'cat README && echo interactive > tui.txt')] }, { text: LAST_WORDS }]);
    const pty = await import('node-pty');
    const term = new xtermHeadless.Terminal({ cols: 120, rows: 40, allowProposedApi: true });
    const args = [CELISTRA_BIN, 'run', '--backend', backend, '--preset', 'codex', '--worktree', 'task-1', '--', CODEX_BIN, ...scriptedProviderOverrides(model.baseUrl, writeScriptedModelCatalog(root)), '-C', own];
    const child = pty.spawn(process.execPath, args, { cols: 120, rows: 40, cwd: repo, env });
    let exited = false;
    const exit = new Promise<void>((resolve) => child.onExit(() => { exited = true; resolve(); }));
    child.onData((d) => term.write(d));
    const waitFor = async (what: RegExp, label: string): Promise<string> => {
      const deadline = Date.now() + 60_000;
      for (;;) {
        await new Promise((r) => setTimeout(r, 200));
        const screen = screenText(term);
        // Its answer is saved in config.toml, read-only under the fence: the TUI would stay there.
        assert.doesNotMatch(screen, /Trust this folder/, 'the folder-trust screen came up');
        if (what.test(screen)) return screen;
        if (exited || Date.now() > deadline) assert.fail(`codex ${exited ? 'exited' : 'timed out'} before ${label}; screen:\n${screen}`);
      }
    };
    try {
      await waitFor(/Ask Codex to do anything/, 'its prompt');
      child.write('Write tui.txt');
      await waitFor(/Write tui\.txt/, 'the typed task');
      child.write('\r');
      const done = await waitFor(new RegExp(LAST_WORDS), "the model's last words");
      assert.doesNotMatch(done, /Failed to|Read-only file system|Permission denied/);
    } finally {
      if (!exited) child.kill('SIGTERM');
      await Promise.race([exit, new Promise((r) => setTimeout(r, 3000))]);
      if (!exited) child.kill('SIGKILL');
      term.dispose();
      await model.close();
    }
    const out = model.toolOutput('run');
    assert.equal(exitCodeIn(out), 0, `the command: ${out}`);
    assert.match(out ?? '', /one\ntwo/, 'the README it read reached the model');
    assert.equal(readFileSync(join(own, 'tui.txt'), 'utf8'), 'interactive\n', 'the command ran in the worktree, on the host');
  });
}
