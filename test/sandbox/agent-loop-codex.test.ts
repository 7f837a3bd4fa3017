/**
 * The real Codex CLI (npm @openai/codex 0.169) does real work inside the fence: driven by
 * a scripted model (test/support/scripted-openai-responses.ts) through
 * `celistra run --preset codex -- codex exec ...`, under landlock and bwrap, in a task
 * worktree made by `celistra worktree add` and in one made the plain way
 * (`git worktree add ../p-task-1 -b agent/task-1 main`). The model reads a file, edits it
 * and writes a new one with codex's apply_patch, runs a node script that does real work,
 * and commits; every effect is checked on the host. It then tries to write into the
 * sibling task's worktree through the shell: that must fail, codex must tell the model
 * so in its next request, and the sibling must be unchanged on the host. No sandbox flag
 * is passed to codex: the preset's config.toml turns codex's own sandbox off, and the last
 * test per backend shows why. How codex is pointed at the scripted model:
 * test/support/codex-scripted-launch.ts; the task: test/support/codex-scripted-task.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { agentStateDirPath } from '../../src/policy/presets/state-dir.js';
import { PRESETS, seedText } from '../../src/policy/presets/catalog.js';
import { isWithin } from '../../src/policy/path-within.js';
import { CELISTRA_BIN } from '../support/celistra-cli.js';
import { execCommand, type ScriptedTurn } from '../support/scripted-openai-responses.js';
import { writeScriptedModelCatalog } from '../support/codex-scripted-launch.js';
import { codexTask, COMMIT_MESSAGE, countScript, exitCodeIn, expectedCount, runFencedCodex, SIBLING_WRITTEN, TURN_AFTER_SIBLING, type TaskFile } from '../support/codex-scripted-task.js';
import { makeRepo, must, celistra, scratch, snapshot, type Scratch } from '../worktree-fixture.js';
import { taskWorktreeSkip } from '../support/fence-skip.js';

const CODEX_BIN = fileURLToPath(new URL('../../../node_modules/.bin/codex', import.meta.url));
const CODEX_MISSING = existsSync(CODEX_BIN) ? false : `the codex CLI is not installed (${CODEX_BIN}): npm install`;
/**
 * With no writable root under /tmp, both backends give the agent a private /tmp, which
 * would hide a codex that lives under /tmp (`npm test`'s unprivileged pass runs from a
 * copy of the checkout there): then the stage goes under /tmp too (as in preset-agents).
 */
const STAGE_PARENT = existsSync(CODEX_BIN) && isWithin(realpathSync(CODEX_BIN), '/tmp') ? '/tmp' : '/var/tmp';

const FILE: TaskFile = { name: 'greeting.txt', before: 'hello from the main branch', after: 'hello from the agent, fenced' };

type Kind = 'celistra worktree add' | 'plain git worktree add';

interface Stage {
  s: Scratch;
  repo: string;
  /** The agent's worktree (task-1) and its sibling (task-2). */
  own: string;
  sibling: string;
  /** `celistra run` flags that name the agent's worktree. */
  where: string[];
  catalog: string;
}

function newStage(kind: Kind, label: string): Stage {
  const s = scratch(`codex-loop-${label}`, STAGE_PARENT);
  const { root, env } = s;
  env.LANG = 'C.UTF-8';
  env.XDG_CACHE_HOME = join(root, 'cache');
  const repo = makeRepo(s, 'p');
  must(`echo '${FILE.before}' > ${FILE.name} && git add ${FILE.name} && git commit -qm greeting`, repo, env);
  if (kind === 'celistra worktree add') {
    for (const n of ['task-1', 'task-2']) {
      const r = celistra(['worktree', 'add', n], repo, env);
      assert.equal(r.status, 0, r.stderr);
    }
  } else {
    must('git worktree add -q ../p-task-1 -b agent/task-1 main && git worktree add -q ../p-task-2 -b agent/task-2 main', repo, env);
  }
  const own = join(root, 'p-task-1');
  const sibling = join(root, 'p-task-2');
  const where = kind === 'celistra worktree add' ? ['--worktree', 'task-1'] : ['--workspace', own];
  return { s, repo, own, sibling, where, catalog: writeScriptedModelCatalog(root) };
}

function runTask(st: Stage, backend: string, turns: ScriptedTurn[] = codexTask(FILE, st.sibling), extra: string[] = []) {
  return runFencedCodex({ cli: CELISTRA_BIN, codex: CODEX_BIN, backend, where: st.where, workdir: st.own, cwd: st.repo, env: st.s.env, catalogPath: st.catalog, turns, extra });
}

const KINDS: Kind[] = ['celistra worktree add', 'plain git worktree add'];

for (const backend of ['landlock', 'bwrap'] as const) {
  const skip = CODEX_MISSING || taskWorktreeSkip(backend);
  for (const kind of KINDS) {
    const label = `${backend}-${kind.startsWith('celistra') ? 'celistra' : 'plain'}`;

    test(`${backend}, ${kind}: codex reads, edits and writes files, runs a node script and commits on its branch, and cannot write the sibling worktree`, { skip, timeout: 240_000 }, async () => {
      const st = newStage(kind, label);
      const mainBefore = must('git rev-parse main', st.repo, st.s.env);
      const siblingBefore = snapshot(st.sibling);
      const { ran, model } = await runTask(st, backend);
      const transcript = `codex exit ${ran.status}\n--- stdout\n${ran.stdout}\n--- stderr\n${ran.stderr}`;
      assert.equal(ran.status, 0, transcript);

      // The model was told what it read, and each allowed step succeeded.
      assert.ok((model.toolOutput('read') ?? '').includes(FILE.before), `the file's content reached the model: ${model.toolOutput('read')}`);
      assert.equal(exitCodeIn(model.toolOutput('read')), 0, transcript);
      assert.match(model.toolOutput('edit') ?? '', /Success\. Updated the following files:\s*\nA count\.js\s*\nM greeting\.txt/, `apply_patch: ${model.toolOutput('edit')}\n${transcript}`);
      assert.equal(exitCodeIn(model.toolOutput('work')), 0, `node script: ${model.toolOutput('work')}\n${transcript}`);
      assert.equal(exitCodeIn(model.toolOutput('commit')), 0, `git commit: ${model.toolOutput('commit')}\n${transcript}`);

      // Every effect, on the host: the edit, the new file, the script's result, the commit.
      const edited = `${FILE.after}\n`;
      const count = expectedCount(FILE);
      assert.equal(readFileSync(join(st.own, FILE.name), 'utf8'), edited);
      assert.equal(readFileSync(join(st.own, 'count.js'), 'utf8'), `${countScript(FILE)}\n`);
      assert.equal(readFileSync(join(st.own, 'count.txt'), 'utf8'), count);
      assert.ok((model.toolOutput('work') ?? '').includes(`counted ${count.split(' ')[0]}\n${count}`), `the script's output reached the model: ${model.toolOutput('work')}`);
      // (An adopted plain worktree's HEAD is detached at the branch's tip between runs: docs/git-in-the-fence.md.)
      assert.equal(must('git rev-parse HEAD', st.own, st.s.env), must('git rev-parse agent/task-1', st.own, st.s.env), 'the worktree is at its branch\'s tip');
      assert.equal(must('git log -1 --format=%s agent/task-1', st.own, st.s.env), `${COMMIT_MESSAGE}\n`, 'the commit is on the agent\'s branch (host git in the worktree)');
      assert.equal(must('git status --porcelain', st.own, st.s.env), '', 'everything the agent made is committed');
      // The seed's harvest, from the main checkout: a plain fetch brings the branch home.
      must('git fetch -q ../p-task-1 agent/task-1:agent/task-1', st.repo, st.s.env);
      assert.equal(must('git log -1 --format=%s agent/task-1', st.repo, st.s.env), `${COMMIT_MESSAGE}\n`, 'the commit reached the main repository');
      assert.equal(must(`git show agent/task-1:${FILE.name}`, st.repo, st.s.env), edited);
      assert.equal(must('git show agent/task-1:count.txt', st.repo, st.s.env), count);
      assert.equal(must('git rev-parse main', st.repo, st.s.env), mainBefore, 'main did not move');

      // The write into the sibling failed, the model was told in its next request, and the host is unchanged.
      const sib = model.toolOutput('sibling');
      assert.notEqual(exitCodeIn(sib), 0, `the sibling write must fail: ${sib}`);
      assert.match(sib ?? '', /Read-only file system|Permission denied/, `the fence's refusal reaches the model: ${sib}`);
      assert.ok(!(sib ?? '').includes(SIBLING_WRITTEN));
      const calls = model.turnRequests();
      const asked = calls.findIndex((r) => r.turn === TURN_AFTER_SIBLING);
      assert.ok(asked > 0, 'codex asked the model again after the sibling attempt');
      assert.equal(model.requestWithOutput('sibling'), asked, 'the failure is in the very next request');
      assert.equal(snapshot(st.sibling), siblingBefore, 'the sibling worktree is unchanged on the host');
      assert.equal(must('git rev-parse agent/task-2', st.repo, st.s.env), mainBefore, 'the sibling branch did not move');

      // Codex kept its session in its own state dir, and its config stayed as the preset seeded it.
      const state = agentStateDirPath(join(realpathSync(st.s.env.HOME!), '.codex-celistra'), realpathSync(st.own));
      assert.ok(existsSync(join(state, 'sessions')) && readdirSync(join(state, 'sessions')).length > 0, 'a session transcript in the agent\'s CODEX_HOME');
      const seed = PRESETS.codex!.stateDir!.protectedEntries.find((e) => e.path === 'config.toml');
      assert.equal(readFileSync(join(state, 'config.toml'), 'utf8'), seed?.kind === 'file' ? seedText(seed.seed, realpathSync(st.own)) : undefined);
    });
  }

  // Why the preset's config.toml sets sandbox_mode: codex's own per-command sandbox (bwrap in
  // a new user namespace) cannot start inside the fence, as root under both backends and
  // unprivileged under landlock. Unprivileged under bwrap it can (the fence's user namespace
  // lets it make its own): there it is redundant, not broken, and this test has nothing to
  // show. Should a later codex nest everywhere, this fails, and the preset's choice is worth
  // revisiting (docs/presets.md, codex part).
  const nests = backend === 'bwrap' && process.getuid?.() !== 0;
  const ownSkip = skip || (nests ? "unprivileged under bwrap, codex's own sandbox can start inside the fence (measured); nothing fails to show" : false);
  test(`${backend}: codex's own sandbox, asked for with -s workspace-write, fails every command inside the fence`, { skip: ownSkip, timeout: 120_000 }, async () => {
    const st = newStage('celistra worktree add', `${backend}-own-sandbox`);
    const turns: ScriptedTurn[] = [{ calls: [execCommand('write', 'echo inside > proof.txt')] }, { text: 'done' }];
    const { ran, model } = await runTask(st, backend, turns, ['-s', 'workspace-write']);
    assert.equal(ran.status, 0, ran.stderr);
    const out = model.toolOutput('write');
    assert.notEqual(exitCodeIn(out), 0, `the command ran: ${out}`);
    // Codex runs the system's bwrap, or without one its own: they fail at different steps
    // (the uid map; looking up lo), both before the command.
    assert.match(out ?? '', /bwrap: (setting up uid map|loopback: Failed to look up lo)/, `not codex's sandbox failing to start: ${out}`);
    assert.ok(!existsSync(join(st.own, 'proof.txt')), 'the command never ran');
  });
}
