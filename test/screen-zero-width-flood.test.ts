import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { agent, cleanup, isAlive, makeSandbox, spawnAgent, startDaemonProcess, waitFor } from './daemon-harness.js';
import { MAX_ZERO_WIDTH_RUN, ZeroWidthLimit } from '../src/terminal/screen-combining-limit.js';

/** Issue 19, class 5: a flood of combining characters used to exhaust the holder's heap in under 3 s. */
const FLOOD = String.raw`
import sys
out = sys.stdout.buffer
out.write(b'a')
mark = '\u0301'.encode() * 65536
for _ in range(400):
    out.write(mark)
out.write(b'\r\nsurvived\r\n')
out.flush()
`;

test('a flood of combining characters does not take down the holder or its agent', { timeout: 240_000 }, async () => {
  const sb = makeSandbox();
  const daemon = await startDaemonProcess(sb);
  try {
    writeFileSync(join(sb.workspace, 'marks.py'), FLOOD);
    const a = await spawnAgent(sb, 'marks', ['sh', '-c', 'python3 marks.py; exec sleep 300'], { backend: 'none' });
    await waitFor('the flood to end', async () => ((await sb.client.logs('marks')).includes('survived') ? true : undefined), 200_000);
    const after = await waitFor('the screen to catch up', async () => {
      const s = await agent(sb, 'marks');
      return s.lastLine === 'survived' || s.state !== 'running' ? s : undefined;
    }, 60_000);
    assert.equal(after.state, 'running', 'the agent was not hung up');
    assert.equal(after.holderPid, a.holderPid);
    assert.ok(isAlive(a.holderPid!), 'the holder is alive');
    assert.equal(after.lastLine, 'survived', 'the screen model kept working');
  } finally {
    await cleanup(sb, daemon);
  }
});

test('zero-width characters past the bound are not given to the screen model, wherever writes split them', () => {
  const input = Buffer.from(`x${'\u0301'.repeat(100)}y\u200d\u200dz`, 'utf8');
  const expected = Buffer.from(`x${'\u0301'.repeat(MAX_ZERO_WIDTH_RUN)}y\u200d\u200dz`, 'utf8');
  const whole = new ZeroWidthLimit().apply(input);
  assert.deepEqual(whole, expected);
  for (let cut = 1; cut < input.length; cut++) {
    const limit = new ZeroWidthLimit();
    const out = Buffer.concat([limit.apply(input.subarray(0, cut)), limit.apply(input.subarray(cut))]).toString('utf8');
    // A cut inside a dropped mark leaves its lead byte (shown as one replacement character).
    const marks = [...out].filter((c) => c === '\u0301').length;
    assert.ok(marks <= MAX_ZERO_WIDTH_RUN, `cut at ${cut}: ${marks} marks`);
    assert.ok(out.startsWith('x') && out.endsWith('y\u200d\u200dz'), `cut at ${cut}`);
  }
});
