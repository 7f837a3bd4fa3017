/**
 * The fan-out's screen mode (src/terminal/fanout.ts): a client that asked for screens gets
 * no live bytes, a fresh screen at most once a period while output flows (never while its
 * own backlog is over the low-water mark), and goes live again after a quiet period,
 * with nothing lost or repeated. Fake clients and a fake agent, on mocked timers.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { Fanout, type FanoutClient, type StartPayload, type StartReason } from '../src/terminal/fanout.js';

const LIMITS = { high: 1000, low: 100, stuckMs: 5_000, screenMs: 250 };

/** An agent whose "screen" is everything it printed: a client's view must end equal to it. */
class FakeAgent {
  printed = '';
  /** When set, snapshot requests wait here until `answer()`. */
  deferred = false;
  private pending: Array<(p: StartPayload) => void> = [];
  readonly requests: string[] = [];
  constructor(private readonly fanout: Fanout) {}
  print(text: string): void {
    this.printed += text;
    this.fanout.broadcast(Buffer.from(text));
  }
  readonly provider = (reason: 'attach' | 'resync', done: (p: StartPayload | undefined) => void): void => {
    this.requests.push(reason);
    if (this.deferred) this.pending.push(done);
    else done(this.payload());
  };
  /** Answer the waiting requests with the screen as it is now (as the holder does, in stream order). */
  answer(): void {
    for (const done of this.pending.splice(0)) done(this.payload());
  }
  private payload(): StartPayload {
    return { kind: 'screen', screen: this.printed, cols: 80, rows: 24, bytes: Buffer.alloc(0) };
  }
}

class FakeClient implements FanoutClient {
  buffered = 0;
  output: string[] = [];
  starts: Array<{ reason: StartReason; at: number }> = [];
  /** What the client shows: the last screen plus the output after it. */
  view = '';
  closed?: { code: number; reason: string };
  bufferedAmount() {
    return this.buffered;
  }
  sendOutput(data: Buffer) {
    this.output.push(data.toString());
    this.view += data.toString();
  }
  sendStart(start: StartPayload, reason: StartReason) {
    this.starts.push({ reason, at: Date.now() });
    this.view = start.screen + start.bytes.toString();
  }
  close(code: number, reason: string) {
    this.closed = { code, reason };
  }
  screensReceived() {
    return this.starts.filter((s) => s.reason === 'screens');
  }
}

function setup(t: TestContext) {
  t.mock.timers.enable({ apis: ['setInterval', 'Date'], now: 1_000_000 });
  const fanout = new Fanout(LIMITS);
  const agent = new FakeAgent(fanout);
  const client = new FakeClient();
  fanout.add(client, agent.provider);
  t.after(() => fanout.closeAll(1000, 'test over'));
  return { fanout, agent, client, tick: (ms: number) => t.mock.timers.tick(ms) };
}

/** Output every 10 ms for `ms`. */
function flood(agent: FakeAgent, tick: (ms: number) => void, ms: number, from = 0): number {
  for (let i = 0; i < ms / 10; i++) {
    agent.print(`line ${from + i}\n`);
    tick(10);
  }
  return from + ms / 10;
}

test('in screen mode no live bytes are sent; screens come at most once a period while output flows', (t) => {
  const { fanout, agent, client, tick } = setup(t);
  agent.print('before\n');
  assert.deepEqual(client.output, ['before\n'], 'live before it asks');
  fanout.screens(client);
  flood(agent, tick, 2000);
  assert.deepEqual(client.output, ['before\n'], 'no live byte after asking for screens');
  const screens = client.screensReceived();
  // Two seconds of output at one screen per 250 ms (checked every 50 ms): 6 to 8 screens.
  assert.ok(screens.length >= 6 && screens.length <= 8, `screens while flooding for 2 s: ${screens.length}`);
  for (let i = 1; i < screens.length; i++) assert.ok(screens[i]!.at - screens[i - 1]!.at >= LIMITS.screenMs, `screens ${i - 1} and ${i} are ${screens[i]!.at - screens[i - 1]!.at} ms apart`);
});

test('a client that asks for screens gets one soon even with no output since (it dropped what it had not drawn)', (t) => {
  const { fanout, agent, client, tick } = setup(t);
  agent.print('all of it\n');
  tick(300);
  fanout.screens(client);
  tick(100);
  assert.equal(client.screensReceived().length, 1, 'one screen, at the first tick');
  assert.equal(client.view, agent.printed);
});

test('after a quiet period the client is live again, ending on exactly what the agent printed', (t) => {
  const { fanout, agent, client, tick } = setup(t);
  fanout.screens(client);
  const n = flood(agent, tick, 1000);
  const screensDuringFlood = client.screensReceived().length;
  // The output stops. Within a period and a tick it goes live, with at most one more screen.
  tick(LIMITS.screenMs + 100);
  assert.ok(client.screensReceived().length <= screensDuringFlood + 1, 'at most one screen after the output stopped');
  assert.equal(client.view, agent.printed, 'the last screen is the present');
  const outputBefore = client.output.length;
  const screensBefore = client.screensReceived().length;
  agent.print(`line ${n}\n`);
  assert.deepEqual(client.output.slice(outputBefore), [`line ${n}\n`], 'live output again');
  tick(1000);
  assert.equal(client.screensReceived().length, screensBefore, 'no screen while live');
  assert.equal(client.view, agent.printed);
});

test('output between a screen\'s snapshot and the switch to live is not lost', (t) => {
  const { fanout, agent, client, tick } = setup(t);
  tick(LIMITS.screenMs);
  fanout.screens(client);
  agent.deferred = true;
  agent.print('a\n');
  tick(50);
  assert.equal(agent.requests.filter((r) => r === 'resync').length, 1, 'a screen was asked for');
  // Printed while the screen is on its way: the holder's answer comes after it, so the screen has it.
  agent.print('b\n');
  agent.answer();
  // Printed after the screen was sent: the client is stale, so a quiet period must not make it live from the old screen.
  tick(100);
  agent.print('c\n');
  tick(LIMITS.screenMs);
  agent.answer();
  tick(LIMITS.screenMs + 100);
  agent.print('d\n');
  assert.equal(client.view, agent.printed, `the client shows all of ${JSON.stringify(agent.printed)}`);
  assert.deepEqual(client.output, ['d\n'], 'live again after the quiet period, with only the output after the last screen');
});

test('no screen is sent while the client\'s backlog is over the low-water mark; one follows once it drains', (t) => {
  const { fanout, agent, client, tick } = setup(t);
  fanout.screens(client);
  client.buffered = LIMITS.low + 1;
  flood(agent, tick, 1000);
  assert.equal(client.screensReceived().length, 0, 'no screen while behind');
  client.buffered = LIMITS.low;
  tick(50);
  assert.equal(client.screensReceived().length, 1, 'a screen once drained to the low-water mark');
  assert.equal(client.view, agent.printed);
});

test('a client in screen mode that stays stuck over the low-water mark is dropped', (t) => {
  const { fanout, agent, client, tick } = setup(t);
  fanout.screens(client);
  client.buffered = LIMITS.high * 10;
  flood(agent, tick, LIMITS.stuckMs - 500);
  const before = client.closed;
  flood(agent, tick, 1000);
  assert.equal(before, undefined, 'not dropped before the limit');
  assert.equal(client.closed?.code, 4008);
  assert.equal(fanout.size, 0);
});

test('asking for screens again does not put off the drop of a stuck client', (t) => {
  const { fanout, agent, client, tick } = setup(t);
  client.buffered = LIMITS.high * 10;
  agent.print('x');
  assert.equal(client.output.length, 0, 'over the high-water mark: lagging');
  for (let i = 0; i < (LIMITS.stuckMs + 500) / 100; i++) {
    fanout.screens(client);
    tick(100);
  }
  assert.equal(client.closed?.code, 4008);
});

test('a screens request while a screen is on its way is answered by it, and the client stays in screen mode', (t) => {
  const { fanout, agent, client, tick } = setup(t);
  tick(300);
  agent.deferred = true;
  fanout.hold(client);
  fanout.resync(client);
  fanout.screens(client);
  agent.answer();
  assert.deepEqual(client.starts.map((s) => s.reason), ['attach', 'screens']);
  agent.print('not live\n');
  assert.deepEqual(client.output, [], 'no live output in screen mode');
  agent.deferred = false;
  tick(300);
  assert.equal(client.view, agent.printed);
});

test('a hold ends screen mode (nothing is sent), and a resync after it makes the client live', (t) => {
  const { fanout, agent, client, tick } = setup(t);
  fanout.screens(client);
  flood(agent, tick, 500);
  const screens = client.screensReceived().length;
  fanout.hold(client);
  flood(agent, tick, 1000, 50);
  assert.equal(client.screensReceived().length, screens, 'no screen while held');
  assert.deepEqual(client.output, []);
  fanout.resync(client);
  agent.print('live\n');
  assert.deepEqual(client.output, ['live\n']);
  assert.equal(client.view, agent.printed);
});

test('the other clients keep getting every byte while one is in screen mode', (t) => {
  const { fanout, agent, client, tick } = setup(t);
  const other = new FakeClient();
  fanout.add(other, agent.provider);
  fanout.screens(client);
  flood(agent, tick, 1000);
  assert.equal(other.view, agent.printed);
  assert.equal(other.output.length, 100);
  assert.deepEqual(client.output, []);
});
