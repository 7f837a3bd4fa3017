import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, readFileSync, realpathSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { celistraPaths } from '../src/policy/paths.js';
import { ApprovalQueue } from '../src/approvals/queue.js';
import { ApprovalStore } from '../src/approvals/store.js';
import { parseAnswer } from '../src/approvals/protocol.js';
import { DEFAULT_RULES } from '../src/approvals/rules.js';
import { startPushReceiver, type PushReceiver } from '../src/approvals/push-receiver.js';
import { scratchDir } from './support/scratch-dir.js';

interface Captured {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A local HTTP server standing in for the ntfy server and the webhook endpoint. */
async function receiver(): Promise<{ server: Server; url: string; got: Captured[] }> {
  const got: Captured[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      got.push({ path: req.url ?? '', headers: req.headers, body });
      res.end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, got };
}

const SECRET = 'a-webhook-secret-of-some-length';

async function setup() {
  const root = realpathSync(scratchDir('celistra-push-'));
  const paths = celistraPaths({ HOME: join(root, 'home'), XDG_STATE_HOME: join(root, 'state'), XDG_CONFIG_HOME: join(root, 'config'), XDG_RUNTIME_DIR: join(root, 'run') });
  const store = new ApprovalStore(paths.stateDir);
  const events: Array<Record<string, unknown>> = [];
  const queue = new ApprovalQueue(paths, store, { record: (e) => events.push(e.data) });
  const spool = queue.openRun('task-7.dddd4444');
  queue.runStarted({ agent: 'task-7', runId: 'task-7.dddd4444', task: 'task-7', branch: 'agent/task-7', rules: DEFAULT_RULES });
  const phone = await receiver();
  const push: PushReceiver = await startPushReceiver(
    { ntfy: { url: `${phone.url}/celistra` }, webhook: { url: `${phone.url}/hook`, secret: SECRET }, actionBaseUrl: 'http://placeholder', listen: '127.0.0.1:0' },
    queue,
    { record: (e) => events.push(e.data) },
  );
  const ask = async (key: string, body: Record<string, unknown>) => {
    writeFileSync(join(spool.dir, `.${key}.tmp`), JSON.stringify({ v: 1, ...body }));
    renameSync(join(spool.dir, `.${key}.tmp`), join(spool.dir, `${key}.json`));
    const deadline = Date.now() + 5000;
    while (phone.got.filter((g) => g.path === '/celistra').length === 0 || !phone.got.some((g) => g.body.includes(String(body.text)))) {
      if (Date.now() > deadline) throw new Error('nothing was published');
      await new Promise((r) => setTimeout(r, 20));
    }
    const ntfy = phone.got.filter((g) => g.path === '/celistra').find((g) => g.body.includes(String(body.text)))!;
    // The buttons point at actionBaseUrl; the test presses them on the receiver's real address.
    const urls = [...String(ntfy.headers.actions).matchAll(/http, (\w+), http:\/\/placeholder(\/v1\/push\/[\w-]+)/g)].map((m) => [m[1]!, `http://${push.address}${m[2]}`] as const);
    return { ntfy, buttons: Object.fromEntries(urls) as Record<'Approve' | 'Deny', string> };
  };
  const answerOf = (key: string) => {
    const p = join(spool.answersDir, `${key}.json`);
    return existsSync(p) ? parseAnswer(readFileSync(p, 'utf8')) : undefined;
  };
  const press = async (url: string) => {
    const res = await fetch(url, { method: 'POST' });
    return { status: res.status, text: await res.text() };
  };
  const close = async () => {
    await push.close();
    phone.server.close();
    queue.close();
    store.close();
  };
  return { queue, events, phone, ask, answerOf, press, close };
}

test('a request is published to the ntfy topic with the agent, task, tool and command, and Approve/Deny buttons; the webhook gets it signed', async () => {
  const s = await setup();
  try {
    const { ntfy, buttons } = await s.ask('pushkey1', { text: 'Bash: git push origin main', tool: 'Bash', input: { command: 'git push origin main' } });
    assert.match(String(ntfy.headers.title), /task-7 \[task-7\] asks: Bash/);
    assert.match(ntfy.body, /git push origin main/);
    assert.ok(buttons.Approve && buttons.Deny && buttons.Approve !== buttons.Deny);
    const deadline = Date.now() + 5000;
    while (!s.phone.got.some((g) => g.path === '/hook') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const hook = s.phone.got.find((g) => g.path === '/hook')!;
    const expected = `sha256=${createHmac('sha256', SECRET).update(hook.body).digest('hex')}`;
    assert.equal(hook.headers['x-celistra-signature'], expected);
    assert.equal(JSON.parse(hook.body).approval.task, 'task-7');
  } finally {
    await s.close();
  }
});

test("pressing Approve answers the request as the phone; pressing it again, or Deny after it, is refused as a replay and audited", async () => {
  const s = await setup();
  try {
    const { buttons } = await s.ask('pushkey2', { text: 'deploy now' });
    const ok = await s.press(buttons.Approve);
    assert.equal(ok.status, 200, ok.text);
    const a = s.answerOf('pushkey2');
    assert.equal(a?.state, 'approved');
    assert.equal(a?.by, 'phone');
    assert.equal((await s.press(buttons.Approve)).status, 410);
    assert.equal((await s.press(buttons.Deny)).status, 410);
    assert.equal(s.answerOf('pushkey2')?.state, 'approved', 'the replays changed nothing');
    assert.equal(s.events.filter((e) => e.action === 'push-refused' && e.why === 'replayed').length, 2);
    assert.ok(s.events.some((e) => e.action === 'approved' && e.by === 'phone'));
  } finally {
    await s.close();
  }
});

test('a forged token is refused (403) and audited; a request answered elsewhere makes its buttons stale', async () => {
  const s = await setup();
  try {
    const { buttons } = await s.ask('pushkey3', { text: 'rm build' });
    const forged = buttons.Approve.replace(/\/v1\/push\/.*/, `/v1/push/${'A'.repeat(43)}`);
    assert.equal((await s.press(forged)).status, 403);
    assert.equal((await s.press(buttons.Approve.replace(/push\/./, 'push/x'))).status, 403, 'one changed character is a forgery');
    assert.equal(s.answerOf('pushkey3')?.state, 'pending');
    const id = s.queue.list()[0]!.id;
    s.queue.answer(id, 'denied', { by: 'cli' });
    assert.equal((await s.press(buttons.Approve)).status, 410);
    assert.equal(s.answerOf('pushkey3')?.state, 'denied');
    assert.equal(s.events.filter((e) => e.action === 'push-refused' && e.why === 'forged').length, 2);
  } finally {
    await s.close();
  }
});

test("an expired request's buttons are refused as expired", async () => {
  const s = await setup();
  try {
    const { buttons } = await s.ask('pushkey4', { text: 'quick one', timeoutSec: 1 });
    const deadline = Date.now() + 5000;
    while (s.answerOf('pushkey4')?.state !== 'expired' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const r = await s.press(buttons.Approve);
    assert.equal(r.status, 410);
    assert.match(r.text, /expired/);
    assert.equal(s.answerOf('pushkey4')?.state, 'expired');
    assert.ok(s.events.some((e) => e.action === 'push-refused' && e.why === 'expired'));
  } finally {
    await s.close();
  }
});

test('the receiver serves nothing but POST /v1/push/<token>', async () => {
  const s = await setup();
  try {
    const { buttons } = await s.ask('pushkey5', { text: 'anything' });
    const base = buttons.Approve.replace(/\/v1\/push\/.*/, '');
    assert.equal((await fetch(buttons.Approve)).status, 404, 'GET does nothing');
    assert.equal((await fetch(`${base}/v1/approvals`, { method: 'POST' })).status, 404);
    assert.equal((await fetch(`${base}/v1/agents`)).status, 404);
    assert.equal(s.answerOf('pushkey5')?.state, 'pending');
  } finally {
    await s.close();
  }
});
