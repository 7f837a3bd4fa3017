import { test } from 'node:test';
import assert from 'node:assert/strict';
import type WebSocket from 'ws';
import { cleanup, makeSandbox, record, spawnAgent, startDaemonProcess, waitFor } from './daemon-harness.js';

/** A client whose socket stops reading: its kernel buffers fill, then the daemon's queue. */
function stall(ws: WebSocket): void {
  (ws as unknown as { _socket: { pause(): void } })._socket.pause();
}

test('a stuck client does not stall the agent or another client, and is resynced from the screen when it reads again', async () => {
  const sb = makeSandbox();
  const daemon = await startDaemonProcess(sb);
  try {
    // Waits for a go, then prints ~40 MB and a final marker.
    await spawnAgent(sb, 'flood', ['sh', '-c', 'read go; i=0; while [ $i -lt 400 ]; do head -c 100000 /dev/zero | tr "\\0" "x"; i=$((i+1)); done; echo; echo FLOOD-DONE; exec sleep 300']);
    const stuck = await sb.client.attach('flood', { replay: 'screen' });
    const stuckRec = record(stuck);
    await stuckRec.first;
    stall(stuck);
    const live = await sb.client.attach('flood', { replay: 'screen', readOnly: 1 });
    const liveRec = record(live);
    await liveRec.first;

    await sb.client.call('POST', '/v1/agents/flood/input', { data: 'go\r' });
    // The agent runs to the end and the healthy client sees it while the other is still stuck.
    await waitFor('the agent to finish the flood', async () => (await sb.client.logs('flood', 4096)).includes('FLOOD-DONE') || undefined, 60_000);
    await waitFor('the healthy client to see the end of the flood', () => liveRec.outputTail().includes('FLOOD-DONE') || undefined, 30_000);
    const stuckBytes = stuckRec.outputBytes();
    assert.ok(stuckBytes < 10_000_000, `the stuck client was not sent the flood (${stuckBytes} bytes)`);
    assert.ok(liveRec.outputBytes() > stuckBytes, 'the healthy client kept receiving');

    (stuck as unknown as { _socket: { resume(): void } })._socket.resume();
    await waitFor('the stuck client to be resynced', () => stuckRec.controls.some((m) => m.type === 'screen' && m.reason === 'resync') || undefined, 30_000);
    const resync = stuckRec.controls.find((m) => m.reason === 'resync')!;
    assert.match(String(resync.data), /FLOOD-DONE/, 'the resync is the current screen, with the end of the flood on it');
    live.close();
    stuck.close();
  } finally {
    await cleanup(sb, daemon);
  }
});
