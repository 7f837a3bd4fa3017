/**
 * The fleet's diff stats over the API (docs/api.md, the agent object's `diffStat`): what
 * GET /v1/agents and `ctl ls --json` say, checked against plain `git diff --numstat` on
 * the host; the event stream's `diffStat` messages; and host git kept off the daemon's
 * event loop (a big diff does not hold up other requests).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import WebSocket from 'ws';
import type { DiffStat, DiffStatMessage } from '../src/daemon/diff-stat.js';
import type { AgentSummary } from '../src/daemon/agent-spec.js';
import { agent, CLI_MAIN, cleanup, makeSandbox, spawnAgent, startDaemonProcess, waitFor, type Sandbox } from './daemon-harness.js';
import { hostNumstat, taskRepo } from './dashboard-support.js';

async function statOf(sb: Sandbox, name: string): Promise<DiffStat | null | undefined> {
  return (await agent(sb, name)).diffStat;
}

function okCounts(stat: DiffStat | null | undefined): { files: number; added: number; removed: number } | undefined {
  return stat?.status === 'ok' ? { files: stat.files, added: stat.added, removed: stat.removed } : undefined;
}

test('each task agent carries its diff stat in GET /v1/agents and ctl ls --json, as git diff --numstat counts it; a plain agent has null; changes are pushed on the stream', async () => {
  const sb = makeSandbox();
  const daemon = await startDaemonProcess(sb);
  const messages: DiffStatMessage['diffStat'][] = [];
  let ws: WebSocket | undefined;
  try {
    ws = new WebSocket(`ws+unix://${sb.client.socketPath}:/v1/events/stream?diffStats=1`);
    ws.on('message', (m) => {
      const msg = JSON.parse(String(m)) as Partial<DiffStatMessage>;
      if (msg.diffStat) messages.push(msg.diffStat);
    });
    await new Promise((r, j) => ws!.once('open', r).once('error', j));
    await spawnAgent(sb, 'plain', ['sleep', '300']);
    const { repo, git } = taskRepo(sb, 'stat');
    const base = git('rev-parse', 'main').stdout.trim();
    // Edits, waits for a line, edits again and exits: the exit is measured at once.
    const script = `printf 'one\\ntwo\\nthree\\n' > new.txt && printf 'changed\\n' > README && echo EDITED && read x && printf 'four\\nfive\\n' >> new.txt && echo FINAL`;
    const spawned = await spawnAgent(sb, 'stat', ['sh', '-c', script], { worktree: 'stat', repo, workspace: undefined });
    await waitFor('the first edit', async () => (await sb.client.logs('stat')).includes('EDITED') || undefined, 30_000);
    const first = hostNumstat(spawned.workspace, base);
    assert.deepEqual(first, { files: 2, added: 4, removed: 1 }, 'the yardstick itself');
    await waitFor('the stat of the first edit', async () => (JSON.stringify(okCounts(await statOf(sb, 'stat'))) === JSON.stringify(first) ? true : undefined), 30_000);
    assert.equal(await statOf(sb, 'plain'), null, 'a plain directory has no stat');

    const ls = spawnSync(process.execPath, [CLI_MAIN, 'ctl', 'ls', '--json'], { env: sb.env, encoding: 'utf8' });
    assert.equal(ls.status, 0, ls.stderr);
    const listed = JSON.parse(ls.stdout) as AgentSummary[];
    assert.deepEqual(okCounts(listed.find((a) => a.name === 'stat')?.diffStat), first);
    assert.equal(listed.find((a) => a.name === 'plain')?.diffStat, null);
    const table = spawnSync(process.execPath, [CLI_MAIN, 'ctl', 'ls'], { env: sb.env, encoding: 'utf8' });
    assert.match(table.stdout, /^NAME .* DIFF +LAST OUTPUT$/m);
    assert.match(table.stdout, /^stat .* 2 files \+4 -1 +EDITED$/m, table.stdout);

    await sb.client.call('POST', '/v1/agents/stat/input', { data: 'go\n' });
    await waitFor('the exit', async () => ((await agent(sb, 'stat')).state === 'exited' ? true : undefined), 30_000);
    const final = hostNumstat(spawned.workspace, base);
    assert.deepEqual(final, { files: 2, added: 6, removed: 1 });
    await waitFor('the stat after the exit', async () => (JSON.stringify(okCounts(await statOf(sb, 'stat'))) === JSON.stringify(final) ? true : undefined), 30_000);
    await waitFor('both stats pushed on the stream', () => (messages.some((m) => m.agent === 'stat' && JSON.stringify(okCounts(m.stat)) === JSON.stringify(final)) ? true : undefined), 10_000);
    assert.ok(messages.some((m) => m.agent === 'stat' && JSON.stringify(okCounts(m.stat)) === JSON.stringify(first)), 'the first stat was pushed too');
    assert.ok(messages.some((m) => m.agent === 'plain' && m.stat === null), 'a plain agent is pushed as null once known');
  } finally {
    ws?.terminate();
    await cleanup(sb, daemon);
  }
});

test('a stream without diffStats=1 gets no diffStat messages; a bad diffStats value is refused', async () => {
  const sb = makeSandbox();
  const daemon = await startDaemonProcess(sb);
  try {
    const bad = await sb.client.raw('GET', '/v1/events/stream?diffStats=yes');
    assert.equal(bad.status, 426, 'a plain GET is told to upgrade first');
    const refused = await new Promise<number>((resolve) => {
      const ws = new WebSocket(`ws+unix://${sb.client.socketPath}:/v1/events/stream?diffStats=yes`);
      ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.once('open', () => resolve(101));
    });
    assert.equal(refused, 400);
    const plainMessages: string[] = [];
    const ws = new WebSocket(`ws+unix://${sb.client.socketPath}:/v1/events/stream`);
    ws.on('message', (m) => plainMessages.push(String(m)));
    await new Promise((r) => ws.once('open', r));
    const { repo } = taskRepo(sb, 'quiet');
    await spawnAgent(sb, 'quiet', ['sh', '-c', 'echo x > x.txt; echo DONE; exec sleep 300'], { worktree: 'quiet', repo, workspace: undefined });
    await waitFor('a stat', async () => (okCounts(await statOf(sb, 'quiet'))?.files === 1 ? true : undefined), 30_000);
    await waitFor('the spawn event', () => (plainMessages.some((m) => m.includes('"spawn"')) ? true : undefined), 10_000);
    assert.ok(!plainMessages.some((m) => m.includes('diffStat')), 'no stats for a client that did not ask');
    ws.terminate();
  } finally {
    await cleanup(sb, daemon);
  }
});

test('while git works on a big diff the daemon answers other requests', async () => {
  const sb = makeSandbox();
  const daemon = await startDaemonProcess(sb);
  try {
    const { repo } = taskRepo(sb, 'huge');
    await spawnAgent(sb, 'huge', ['sh', '-c', 'seq 1 1500000 > big.txt; echo DONE; exec sleep 300'], { worktree: 'huge', repo, workspace: undefined });
    await waitFor('the big file', async () => (await sb.client.logs('huge')).includes('DONE') || undefined, 30_000);
    let diffDone = false;
    const diff = sb.client.call<{ diff: { truncated: boolean } }>('GET', '/v1/agents/huge/diff').finally(() => (diffDone = true));
    // On the event loop, git would hold every other request until the diff is done.
    let answeredMeanwhile = 0;
    while (!diffDone) {
      await sb.client.call('GET', '/v1/status');
      if (!diffDone) answeredMeanwhile++;
    }
    assert.equal((await diff).diff.truncated, true);
    assert.ok(answeredMeanwhile >= 3, `${answeredMeanwhile} status requests were answered while the diff was computed`);
  } finally {
    await cleanup(sb, daemon);
  }
});

test('the fleet stream pushes an agent whose diff stat changed when nothing else of it did (a pull from the API)', async () => {
  const sb = makeSandbox();
  const daemon = await startDaemonProcess(sb);
  const rows: AgentSummary[] = [];
  let fleet: WebSocket | undefined;
  try {
    const { repo } = taskRepo(sb, 'pulled');
    const commit = 'git -c user.email=a@example.com -c user.name=agent commit -qm';
    await spawnAgent(sb, 'pulled', ['sh', '-c', `echo feature > feat.txt && git add feat.txt && ${commit} feature; echo DONE; exec sleep 300`], { worktree: 'pulled', repo, workspace: undefined });
    await waitFor('the commit', async () => (await sb.client.logs('pulled')).includes('DONE') || undefined, 30_000);
    await waitFor('the stat of the commit', async () => (JSON.stringify(okCounts(await statOf(sb, 'pulled'))) === JSON.stringify({ files: 1, added: 1, removed: 0 }) ? true : undefined), 30_000);
    fleet = new WebSocket(`ws+unix://${sb.client.socketPath}:/v1/agents/stream`);
    fleet.on('message', (m) => {
      const msg = JSON.parse(String(m)) as { type: string; agent?: AgentSummary };
      if (msg.type === 'agent' && msg.agent) rows.push(msg.agent);
    });
    await new Promise((r, j) => fleet!.once('open', r).once('error', j));
    // The pull changes the task's base, not the agent: only its stat moves (to nothing).
    await sb.client.call('POST', '/v1/agents/pulled/pull', { mode: 'merge' });
    const empty = JSON.stringify({ files: 0, added: 0, removed: 0 });
    await waitFor('the stat after the pull', async () => (JSON.stringify(okCounts(await statOf(sb, 'pulled'))) === empty ? true : undefined), 30_000);
    await waitFor('the row pushed with it', () => (rows.some((a) => a.name === 'pulled' && JSON.stringify(okCounts(a.diffStat)) === empty) ? true : undefined), 10_000);
    assert.equal((await agent(sb, 'pulled')).state, 'running', 'the agent itself did not change');
  } finally {
    fleet?.terminate();
    await cleanup(sb, daemon);
  }
});

test('a pull from a terminal (celistra pull) moves the row\'s stat while a client follows the events, as the dashboard does', async () => {
  const sb = makeSandbox();
  const daemon = await startDaemonProcess(sb);
  let events: WebSocket | undefined;
  try {
    const { repo } = taskRepo(sb, 'cli-pulled');
    const commit = 'git -c user.email=a@example.com -c user.name=agent commit -qm';
    await spawnAgent(sb, 'cli-pulled', ['sh', '-c', `echo feature > feat.txt && git add feat.txt && ${commit} feature; echo DONE; exec sleep 300`], { worktree: 'cli-pulled', repo, workspace: undefined });
    await waitFor('the commit', async () => (await sb.client.logs('cli-pulled')).includes('DONE') || undefined, 30_000);
    await waitFor('the stat of the commit', async () => (JSON.stringify(okCounts(await statOf(sb, 'cli-pulled'))) === JSON.stringify({ files: 1, added: 1, removed: 0 }) ? true : undefined), 30_000);
    // The dashboard's activity feed: an events stream, whose follower reads the log.
    events = new WebSocket(`ws+unix://${sb.client.socketPath}:/v1/events/stream`);
    await new Promise((r, j) => events!.once('open', r).once('error', j));
    // The agent prints nothing more and does not exit: only the pull can move its stat.
    const pulled = spawnSync(process.execPath, [CLI_MAIN, 'pull', 'cli-pulled'], { cwd: repo, env: sb.env, encoding: 'utf8' });
    assert.equal(pulled.status, 0, pulled.stderr);
    const empty = JSON.stringify({ files: 0, added: 0, removed: 0 });
    await waitFor('the stat after the terminal pull', async () => (JSON.stringify(okCounts(await statOf(sb, 'cli-pulled'))) === empty ? true : undefined), 20_000);
  } finally {
    events?.terminate();
    await cleanup(sb, daemon);
  }
});
