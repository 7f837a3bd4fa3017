import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { celistraPaths, type CelistraPaths } from '../src/policy/paths.js';
import { buildPolicy } from '../src/policy/policy.js';
import { LIMITS, ApprovalQueue } from '../src/approvals/queue.js';
import { ApprovalStore } from '../src/approvals/store.js';
import { parseAnswer, type ApprovalAnswer } from '../src/approvals/protocol.js';
import type { RunSpool } from '../src/approvals/spool.js';
import { DEFAULT_RULES, type ApprovalRules } from '../src/approvals/rules.js';
import { errorCode } from './support/error-code.js';
import { scratchDir } from './support/scratch-dir.js';

interface Fixture {
  paths: CelistraPaths;
  store: ApprovalStore;
  queue: ApprovalQueue;
  events: Array<{ agent?: string; data: Record<string, unknown> }>;
  spool: RunSpool;
}

function fixture(rules: ApprovalRules = DEFAULT_RULES, root = realpathSync(scratchDir('celistra-approvals-'))): Fixture {
  const paths = celistraPaths({ HOME: join(root, 'home'), XDG_STATE_HOME: join(root, 'state'), XDG_CONFIG_HOME: join(root, 'config'), XDG_RUNTIME_DIR: join(root, 'run') });
  const store = new ApprovalStore(paths.stateDir);
  const events: Fixture['events'] = [];
  const queue = new ApprovalQueue(paths, store, { record: (e) => events.push({ agent: e.agent, data: e.data }) });
  const opened = queue.openRun('task-1.aaaa1111');
  queue.runStarted({ agent: 'task-1', runId: 'task-1.aaaa1111', task: 'task-1', branch: 'agent/task-1', rules });
  return { paths, store, queue, events, spool: { dir: opened.dir, answersDir: opened.answersDir } };
}

function submit(f: Fixture, key: string, body: Record<string, unknown>): void {
  writeFileSync(join(f.spool.dir, `.${key}.tmp`), JSON.stringify({ v: 1, ...body }));
  spawnSync('mv', [join(f.spool.dir, `.${key}.tmp`), join(f.spool.dir, `${key}.json`)]);
}

async function answerOf(f: Fixture, key: string, final = true): Promise<ApprovalAnswer> {
  const path = join(f.spool.answersDir, `${key}.json`);
  const deadline = Date.now() + 5000;
  for (;;) {
    if (existsSync(path)) {
      const a = parseAnswer(readFileSync(path, 'utf8'));
      if (a && (!final || a.state !== 'pending')) return a;
    }
    if (Date.now() > deadline) throw new Error(`no ${final ? 'final ' : ''}answer for ${key}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function done(f: Fixture): void {
  f.queue.close();
  f.store.close();
}

test('a request file in the spool becomes one pending request naming the agent and its task, and its answer file names the id', async () => {
  const f = fixture();
  try {
    submit(f, 'key00001', { text: 'run git push', tool: 'Bash', input: { command: 'git push' } });
    const pending = await answerOf(f, 'key00001', false);
    assert.equal(pending.state, 'pending');
    const [r] = f.queue.list();
    assert.equal(r!.id, pending.id);
    assert.equal(r!.agent, 'task-1');
    assert.equal(r!.task, 'task-1');
    assert.equal(r!.tool, 'Bash');
    assert.ok(r!.expires - r!.created === 300_000, 'the default timeout is 300 s');
    assert.deepEqual(readdirSync(f.spool.dir).sort(), ['answers'], 'the request file was taken');
    assert.equal(f.events.find((e) => e.data.action === 'requested')?.data.id, r!.id);
  } finally {
    done(f);
  }
});

test('the first answer wins: approving writes the decision for the agent, audits who answered, and a second answer is a conflict', async () => {
  const f = fixture();
  try {
    submit(f, 'key00002', { text: 'deploy?' });
    const { id } = await answerOf(f, 'key00002', false);
    f.queue.answer(id, 'approved', { by: 'cli' });
    const a = await answerOf(f, 'key00002');
    assert.equal(a.state, 'approved');
    assert.equal(a.by, 'cli');
    assert.equal(errorCode(() => f.queue.answer(id, 'denied', { by: 'dashboard' })), 'E_CONFLICT');
    assert.equal((await answerOf(f, 'key00002')).state, 'approved', 'the later answer changed nothing');
    const decided = f.events.filter((e) => e.data.id === id && e.data.action !== 'requested');
    assert.deepEqual(decided.map((e) => [e.data.action, e.data.by]), [['approved', 'cli']]);
  } finally {
    done(f);
  }
});

test('a deny carries its reason to the agent', async () => {
  const f = fixture();
  try {
    submit(f, 'key00003', { text: 'rm -rf build?' });
    const { id } = await answerOf(f, 'key00003', false);
    f.queue.answer(id, 'denied', { by: 'cli', reason: 'not on a Friday' });
    const a = await answerOf(f, 'key00003');
    assert.equal(a.state, 'denied');
    assert.equal(a.reason, 'not on a Friday');
  } finally {
    done(f);
  }
});

test('the same question asked twice while pending collapses into one request, and one answer reaches both askers', async () => {
  const f = fixture();
  try {
    submit(f, 'dupkey01', { text: 'push?', tool: 'Bash', input: { command: 'git push' } });
    const first = await answerOf(f, 'dupkey01', false);
    submit(f, 'dupkey02', { text: 'push?', tool: 'Bash', input: { command: 'git push' } });
    const second = await answerOf(f, 'dupkey02', false);
    assert.equal(second.id, first.id);
    assert.equal(f.queue.list().length, 1);
    assert.equal(f.queue.list()[0]!.asks, 2);
    f.queue.answer(first.id, 'approved', { by: 'cli' });
    assert.equal((await answerOf(f, 'dupkey01')).state, 'approved');
    assert.equal((await answerOf(f, 'dupkey02')).state, 'approved');
  } finally {
    done(f);
  }
});

test('a request nobody answers expires into a deny, audited as expired', async () => {
  const f = fixture();
  try {
    submit(f, 'expkey01', { text: 'quick?', timeoutSec: 1 });
    const a = await answerOf(f, 'expkey01');
    assert.equal(a.state, 'expired');
    assert.equal(f.queue.list().length, 0);
    assert.ok(f.events.some((e) => e.data.action === 'expired' && e.data.id === a.id));
  } finally {
    done(f);
  }
});

test('the pending requests of a run that ends go stale, and its spool is removed', async () => {
  const f = fixture();
  try {
    submit(f, 'stalek01', { text: 'wait for me' });
    const { id } = await answerOf(f, 'stalek01', false);
    f.queue.runEnded('task-1.aaaa1111');
    assert.equal(f.queue.list().length, 0);
    assert.equal(errorCode(() => f.queue.answer(id, 'approved', { by: 'cli' })), 'E_CONFLICT');
    assert.ok(f.events.some((e) => e.data.action === 'stale' && e.data.id === id));
    assert.equal(existsSync(f.spool.dir), false);
  } finally {
    done(f);
  }
});

test('with --approve and --auto-allow, only matching requests wait for a person; the rest are allowed by rule and audited so', async () => {
  const f = fixture({ ask: ['Bash(git push:*)'], otherwise: 'allow' });
  try {
    submit(f, 'rulekey1', { text: 'commit', tool: 'Bash', input: { command: 'git commit -m x' } });
    const allowed = await answerOf(f, 'rulekey1');
    assert.equal(allowed.state, 'approved');
    assert.equal(allowed.by, 'rule');
    submit(f, 'rulekey2', { text: 'push', tool: 'Bash', input: { command: 'git push origin main' } });
    assert.equal((await answerOf(f, 'rulekey2', false)).state, 'pending');
    submit(f, 'rulekey3', { text: 'pushx', tool: 'Bash', input: { command: 'git pushx' } });
    assert.equal((await answerOf(f, 'rulekey3')).by, 'rule', 'a prefix rule matches whole words only');
  } finally {
    done(f);
  }
});

test('with --auto-deny, a request no pattern matches is denied by rule', async () => {
  const f = fixture({ ask: [], otherwise: 'deny' });
  try {
    submit(f, 'denykey1', { text: 'anything' });
    const a = await answerOf(f, 'denykey1');
    assert.equal(a.state, 'denied');
    assert.equal(a.by, 'rule');
  } finally {
    done(f);
  }
});

test('approve --always answers the same question from the same agent by rule from then on', async () => {
  const f = fixture();
  try {
    submit(f, 'alwkey01', { text: 'test', tool: 'Bash', input: { command: 'npm test' } });
    const { id } = await answerOf(f, 'alwkey01', false);
    f.queue.answer(id, 'approved', { by: 'cli', always: true });
    submit(f, 'alwkey02', { text: 'test', tool: 'Bash', input: { command: 'npm test' } });
    const again = await answerOf(f, 'alwkey02');
    assert.equal(again.state, 'approved');
    assert.equal(again.by, 'rule');
    submit(f, 'alwkey03', { text: 'test', tool: 'Bash', input: { command: 'npm publish' } });
    assert.equal((await answerOf(f, 'alwkey03', false)).state, 'pending', 'another command still asks');
  } finally {
    done(f);
  }
});

test('secrets in a request are redacted in what the queue shows and audits', async () => {
  const f = fixture();
  try {
    submit(f, 'seckey01', { text: 'call with GITHUB_TOKEN=ghp_abcdefghijklmnopqrstuvwxyz0123', tool: 'Bash', input: { command: 'curl -H "Authorization: Bearer sk-ant-abcdefghijklmnopqrstu" https://u:hunter2@x.example/', api_key: 'k' } });
    await answerOf(f, 'seckey01', false);
    const shown = JSON.stringify(f.queue.list()) + JSON.stringify(f.events);
    for (const secret of ['ghp_abcdefghijklmnopqrstuvwxyz0123', 'sk-ant-abcdefghijklmnopqrstu', 'hunter2', '"k"']) assert.ok(!shown.includes(secret), `${secret} leaked: ${shown}`);
    assert.match(shown, /\[redacted\]/);
  } finally {
    done(f);
  }
});

test('a flood of junk (links, a FIFO, oversized, bad JSON, bad names, too many requests) is removed, refused and audited in bounded events; the queue keeps answering', async () => {
  const f = fixture();
  try {
    const secret = join(f.paths.home, 'secret.json');
    mkdirSync(f.paths.home, { recursive: true });
    writeFileSync(secret, JSON.stringify({ v: 1, text: 'from a link' }));
    symlinkSync(secret, join(f.spool.dir, 'linkkey1.json'));
    spawnSync('mkfifo', [join(f.spool.dir, 'fifokey1.json')]);
    writeFileSync(join(f.spool.dir, 'bigkey01.json'), 'x'.repeat(64 * 1024));
    writeFileSync(join(f.spool.dir, 'badjson1.json'), '{not json');
    writeFileSync(join(f.spool.dir, 'no spaces allowed.json'), '{}');
    mkdirSync(join(f.spool.dir, 'dirkey01.json'));
    for (let i = 0; i < 120; i++) writeFileSync(join(f.spool.dir, `flood${String(i).padStart(4, '0')}.json`), JSON.stringify({ v: 1, text: `flood ${i}` }));
    const deadline = Date.now() + 10_000;
    while (readdirSync(f.spool.dir).length > 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(readdirSync(f.spool.dir), ['answers'], 'every entry was taken or removed');
    assert.equal(readFileSync(secret, 'utf8'), JSON.stringify({ v: 1, text: 'from a link' }), 'the link target is untouched');
    assert.ok(f.queue.list().length <= LIMITS.pendingPerRun, 'pending requests are capped per run');
    assert.ok(!f.queue.list().some((r) => r.text === 'from a link'), 'a symlinked request is not read through');
    assert.equal((await answerOf(f, 'badjson1')).state, 'refused');
    const drops = f.events.filter((e) => e.data.action === 'dropped');
    assert.ok(drops.length > 0 && drops.length <= 10, `drops are aggregated per sweep (${drops.length} events)`);
    const reasons = JSON.stringify(drops.map((d) => d.data.dropped));
    for (const why of ['not a regular file', 'larger than', 'malformed request', 'not a request file name', 'cannot open: ELOOP']) assert.ok(reasons.includes(why), `${why} in ${reasons}`);
    // Still answering after the flood.
    const [first] = f.queue.list();
    assert.equal(f.queue.answer(first!.id, 'approved', { by: 'cli' }).state, 'approved');
  } finally {
    done(f);
  }
});

test('pending requests come back after a daemon restart when their run is still running; those of runs that ended meanwhile go stale', async () => {
  const root = realpathSync(scratchDir('celistra-approvals-restart-'));
  const f = fixture(DEFAULT_RULES, root);
  submit(f, 'surv0001', { text: 'still there?' });
  const { id } = await answerOf(f, 'surv0001', false);
  const gone = f.queue.openRun('gone.bbbb2222');
  f.queue.runStarted({ agent: 'gone', runId: 'gone.bbbb2222', task: 'gone', branch: null, rules: DEFAULT_RULES });
  writeFileSync(join(gone.dir, 'gonekey1.json'), JSON.stringify({ v: 1, text: 'lost' }));
  const deadline = Date.now() + 5000;
  while (f.queue.list().length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  const goneId = f.queue.list().find((r) => r.agent === 'gone')!.id;
  done(f);

  const store = new ApprovalStore(f.paths.stateDir);
  const events: Array<Record<string, unknown>> = [];
  const queue = new ApprovalQueue(f.paths, store, { record: (e) => events.push(e.data) });
  try {
    queue.runStarted({ agent: 'task-1', runId: 'task-1.aaaa1111', task: 'task-1', branch: 'agent/task-1', rules: DEFAULT_RULES });
    queue.finishRecovery();
    assert.deepEqual(queue.list().map((r) => r.id), [id]);
    assert.ok(events.some((e) => e.action === 'stale' && e.id === goneId));
    queue.answer(id, 'approved', { by: 'cli' });
    assert.equal((await answerOf(f, 'surv0001')).state, 'approved');
  } finally {
    queue.close();
    store.close();
  }
});

test('the policy grants the spool writable and its answers read-only, inside the read-denied runtime dir, and names it in the env', () => {
  const f = fixture();
  try {
    const ws = join(f.paths.home, 'ws');
    mkdirSync(ws, { recursive: true });
    const tmp = join(f.paths.home, 'tmp');
    mkdirSync(tmp);
    const opened = f.queue.openRun('task-2.cccc3333');
    const p = buildPolicy({ workspace: ws, tmpDir: tmp, paths: f.paths, approvals: opened });
    assert.ok(p.writableRoots.includes(opened.dir));
    assert.ok(p.readOnlyPaths.includes(opened.answersDir));
    assert.ok(p.denyRead.includes(realpathSync(f.paths.runtimeDir)));
    assert.equal(p.env.CELISTRA_APPROVALS, opened.dir);
    const outside = join(f.paths.home, 'elsewhere');
    mkdirSync(join(outside, 'answers'), { recursive: true });
    assert.equal(errorCode(() => buildPolicy({ workspace: ws, tmpDir: tmp, paths: f.paths, approvals: { dir: outside, answersDir: join(outside, 'answers'), env: {} } })), 'E_POLICY');
  } finally {
    done(f);
  }
});
