import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Fanout, type FanoutClient, type StartPayload } from '../src/terminal/fanout.js';

class FakeClient implements FanoutClient {
  buffered = 0;
  output: string[] = [];
  starts: Array<{ reason: string; screen: string; bytes: string }> = [];
  closed?: { code: number; reason: string };
  bufferedAmount() {
    return this.buffered;
  }
  sendOutput(data: Buffer) {
    this.output.push(data.toString());
  }
  sendStart(start: StartPayload, reason: 'attach' | 'resync') {
    this.starts.push({ reason, screen: start.screen, bytes: start.bytes.toString() });
  }
  close(code: number, reason: string) {
    this.closed = { code, reason };
  }
}

const screenNow = (screen: string) => (_reason: string, done: (p: StartPayload) => void) => done({ kind: 'screen', screen, cols: 80, rows: 24, bytes: Buffer.alloc(0) });

test('a client waiting for its screen gets no live output until the screen is sent', () => {
  const f = new Fanout();
  const c = new FakeClient();
  let reply!: (p: StartPayload) => void;
  f.add(c, (_reason, done) => (reply = done));
  f.broadcast(Buffer.from('before'));
  reply({ kind: 'screen', screen: 'S', cols: 80, rows: 24, bytes: Buffer.from('tail') });
  f.broadcast(Buffer.from('after'));
  assert.deepEqual(c.starts, [{ reason: 'attach', screen: 'S', bytes: 'tail' }]);
  assert.deepEqual(c.output, ['after']);
});

test('a client over the high-water mark is skipped while the others keep receiving', () => {
  const f = new Fanout({ high: 100, low: 10, stuckMs: 60_000 });
  const slow = new FakeClient();
  const fast = new FakeClient();
  f.add(slow, screenNow('s'));
  f.add(fast, screenNow('s'));
  slow.buffered = 500;
  for (let i = 0; i < 5; i++) f.broadcast(Buffer.from(`chunk${i}`));
  assert.equal(fast.output.length, 5);
  assert.equal(slow.output.length, 0);
  f.closeAll(1000, 'done');
});

test('a lagging client that drains is resynced with a fresh screen', async () => {
  const f = new Fanout({ high: 100, low: 10, stuckMs: 60_000 });
  const c = new FakeClient();
  let n = 0;
  f.add(c, (_reason, done) => done({ kind: 'screen', screen: `screen${n++}`, cols: 80, rows: 24, bytes: Buffer.alloc(0) }));
  c.buffered = 500;
  f.broadcast(Buffer.from('lost'));
  c.buffered = 0;
  await new Promise((r) => setTimeout(r, 120));
  assert.deepEqual(c.starts.map((s) => [s.reason, s.screen]), [['attach', 'screen0'], ['resync', 'screen1']]);
  f.broadcast(Buffer.from('live'));
  assert.deepEqual(c.output, ['live']);
  f.closeAll(1000, 'done');
});

test('a client stuck past the limit is dropped', async () => {
  const f = new Fanout({ high: 100, low: 10, stuckMs: 50 });
  const c = new FakeClient();
  f.add(c, screenNow('s'));
  c.buffered = 500;
  f.broadcast(Buffer.from('x'));
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(c.closed?.code, 4008);
  assert.equal(f.size, 0);
});
