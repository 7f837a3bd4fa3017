import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decideRestart, DEFAULT_RESTART_POLICY, crashesInWindow } from '../src/daemon/restart-policy.js';

const P = DEFAULT_RESTART_POLICY;

test('the delay doubles with each crash in the window, up to the maximum', () => {
  const now = 1_000_000;
  const delays = [1, 2, 3, 4, 5].map((n) => {
    const d = decideRestart(Array.from({ length: n }, (_, i) => now - i * 100), now, P);
    assert.equal(d.action, 'restart');
    return d.action === 'restart' ? d.delayMs : -1;
  });
  assert.deepEqual(delays, [500, 1000, 2000, 4000, 8000]);
  const capped = decideRestart([now], now, { ...P, baseDelayMs: 40_000 });
  assert.deepEqual(capped, { action: 'restart', delayMs: P.maxDelayMs });
});

test('a sixth crash within 60 s crashes the agent out', () => {
  const now = 1_000_000;
  const six = Array.from({ length: 6 }, (_, i) => now - i * 5000);
  assert.deepEqual(decideRestart(six, now, P), { action: 'crashed-out', crashesInWindow: 6 });
});

test('crashes older than the window do not count', () => {
  const now = 1_000_000;
  const old = [now - 61_000, now - 70_000, now - 80_000, now - 90_000, now - 100_000];
  assert.deepEqual(decideRestart([...old, now], now, P), { action: 'restart', delayMs: 500 });
  assert.deepEqual(crashesInWindow([...old, now], now, P), [now]);
});
