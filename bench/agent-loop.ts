/**
 * The real Claude Code CLI doing a scripted 4-turn task (Read, Edit, Bash running a small
 * node test, Bash git commit) against the scripted model on 127.0.0.1, fenced
 * (`celistra run --backend auto --preset claude`) and unfenced (claude itself), in a
 * fresh `celistra worktree add` worktree each run. Rounds interleave the two, alternating
 * which goes first, so drift hits both alike. Wall time from spawn to exit.
 * Results: docs/benchmarks.md ("A real agent loop").
 * Run: npx tsc -p tsconfig.json && node scripts/bundle.js && node dist/bench/agent-loop.js [--rounds N]
 */
import { join } from 'node:path';
import { CELISTRA_BIN } from '../test/support/celistra-cli.js';
import { CLAUDE_BIN, claudeAvailable, claudeEnv, claudePrintArgs } from '../test/support/claude-launch.js';
import { COMMIT_MESSAGE, FINAL_TEXT, taskScenario } from '../test/support/claude-task.js';
import { runAsync } from '../test/support/run-async.js';
import { startScriptedAnthropic, type Scenario } from '../test/support/scripted-anthropic.js';
import { loopStage } from '../test/sandbox/agent-loop-stage.js';
import { machineLine, median, percentile } from './stats.js';

const argv = process.argv.slice(2);
const i = argv.indexOf('--rounds');
const ROUNDS = i === -1 ? 8 : Number(argv[i + 1]);

/** The test's task cut to four turns: Read, Edit, Bash (a node test of the fix), Bash (commit). */
function fourTurns(ws: string): Scenario {
  const [read, edit] = taskScenario(ws).turns;
  return {
    turns: [
      read!,
      edit!,
      { tools: [{ name: 'Bash', input: { command: `node -e "process.exit(require('./calc.js').add(2, 40) === 42 ? 0 : 1)" && echo ok`, description: 'Test add' } }] },
      { tools: [{ name: 'Bash', input: { command: `git commit -q -am '${COMMIT_MESSAGE}' && git log -1 --format=%s`, description: 'Commit' } }] },
    ],
    finalText: FINAL_TEXT,
  };
}

type Variant = 'fenced' | 'unfenced';

async function once(variant: Variant): Promise<number> {
  const stage = loopStage('celistra-worktree');
  const model = await startScriptedAnthropic(fourTurns(stage.ws));
  const claude = [CLAUDE_BIN, ...claudePrintArgs('Fix add in calc.js, test it, commit.', { allowedTools: ['Read', 'Edit', 'Bash'] })];
  const [file, args] = variant === 'fenced' ? [process.execPath, [CELISTRA_BIN, 'run', '--backend', 'auto', '--preset', 'claude', '--workspace', stage.ws, '--', ...claude]] : [claude[0]!, claude.slice(1)];
  try {
    const t0 = performance.now();
    const r = await runAsync(file, args, { cwd: stage.ws, env: { ...stage.env, ...claudeEnv(model.url) }, timeoutMs: 180_000 });
    const ms = performance.now() - t0;
    const failed = model.toolResults().filter((t) => t.isError);
    if (r.status !== 0 || r.stdout.trim() !== FINAL_TEXT || failed.length || model.toolResults().length !== 4) {
      throw new Error(`${variant} run failed (${r.status}): ${r.stdout} ${r.stderr} ${failed.map((f) => f.text).join('; ')}`);
    }
    return ms;
  } finally {
    await model.close();
  }
}

async function main(): Promise<void> {
  const missing = claudeAvailable();
  if (missing) {
    process.stdout.write(`skipped: ${missing}\n`);
    return;
  }
  const samples: Record<Variant, number[]> = { fenced: [], unfenced: [] };
  // One untimed run of each first: the binary's pages and the helper into the page cache.
  await once('unfenced');
  await once('fenced');
  for (let round = 0; round < ROUNDS; round++) {
    const order: Variant[] = round % 2 === 0 ? ['unfenced', 'fenced'] : ['fenced', 'unfenced'];
    for (const v of order) samples[v].push(await once(v));
    process.stderr.write(`round ${round + 1}/${ROUNDS}: unfenced ${samples.unfenced.at(-1)!.toFixed(0)} ms, fenced ${samples.fenced.at(-1)!.toFixed(0)} ms\n`);
  }
  const row = (v: Variant) => `| ${v} | ${median(samples[v]).toFixed(0)} | ${percentile(samples[v], 10).toFixed(0)} | ${percentile(samples[v], 90).toFixed(0)} |`;
  const ratio = median(samples.fenced) / median(samples.unfenced);
  // Each round's own ratio too: on a loaded machine the two runs of a round share its load.
  const paired = median(samples.fenced.map((f, r) => f / samples.unfenced[r]!));
  process.stdout.write(
    [
      `machine: ${machineLine()}`,
      `rounds: ${ROUNDS} (interleaved), claude: ${CLAUDE_BIN}`,
      '',
      '| variant | median ms | p10 | p90 |',
      '| --- | --- | --- | --- |',
      row('unfenced'),
      row('fenced'),
      '',
      `fenced/unfenced (medians): ${ratio.toFixed(3)}; median of the rounds' own ratios: ${paired.toFixed(3)} (goal <= 1.10)`,
      `stage: ${join('<scratch>', 'proj-task-1')}, a fresh celistra worktree per run`,
      '',
    ].join('\n'),
  );
}

await main();
