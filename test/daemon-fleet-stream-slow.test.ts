import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { WebSocket } from 'ws';
import { FLEET_MAX_UNSENT_BYTES, FleetClient } from '../src/daemon/fleet-stream.js';
import { waitFor } from './daemon-harness.js';

/** A socket that sends nothing for real: `unsent` is what a client has not read yet. */
function fakeSocket() {
  const sent: string[] = [];
  const ws = { OPEN: 1, readyState: 1, unsent: 0, get bufferedAmount() { return this.unsent; }, send: (t: string) => sent.push(t), on: () => ws, close: () => undefined, terminate: () => undefined };
  return { ws, sent };
}

test('a fleet client that falls behind skips changes, then gets one fresh snapshot once it has read what was queued', async () => {
  const { ws, sent } = fakeSocket();
  let snapshots = 0;
  const client = new FleetClient(ws as unknown as WebSocket, () => `snapshot ${++snapshots}`);
  client.sendSnapshot();
  client.send('change a');
  assert.deepEqual(sent, ['snapshot 1', 'change a']);

  ws.unsent = FLEET_MAX_UNSENT_BYTES + 1;
  client.send('change b');
  client.send('change c');
  assert.deepEqual(sent, ['snapshot 1', 'change a'], 'nothing more is queued for a client that is behind');

  ws.unsent = 0;
  await waitFor('the fresh snapshot', () => (sent.length > 2 ? true : undefined), 5000);
  assert.deepEqual(sent, ['snapshot 1', 'change a', 'snapshot 2'], 'the skipped changes are replaced by one snapshot');
  client.send('change d');
  assert.equal(sent.at(-1), 'change d', 'then changes flow again');
  client.dispose();
});
