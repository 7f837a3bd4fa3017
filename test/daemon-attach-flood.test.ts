import { test } from 'node:test';
import { referenceScreen } from './support/reference-screen.js';
import { OutputFilter } from '../src/terminal/output-filter.js';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type WebSocket from 'ws';
import { cleanup, makeSandbox, sleep, spawnAgent, startDaemonProcess, waitFor } from './daemon-harness.js';

const COLS = 80;
const ROWS = 24;
const JUST_AFTER = 16;

/**
 * ~12 MB of output in odd-sized writes, so the holder's reads (and the parser's snapshot
 * points) fall inside sequences. Mode "dense": SGR colours, cursor moves, line erases,
 * OSC titles and 2- and 3-byte UTF-8 characters on every line. Mode "log": coloured log
 * lines with UTF-8 and line erases, a cursor move and a title only every 3000 lines —
 * text the holder's model skips as it scrolls off (src/terminal/screen-skip.ts). It writes
 * the same bytes to a file: the reference. `stty -opost -echo` keeps the PTY from adding \r or echoing "go".
 */
const GENERATOR = String.raw`
import sys, time
out = sys.stdout.buffer
ref = open(sys.argv[1], 'wb')
dense = sys.argv[2] == 'dense'
total = 0
i = 0
while total < 12_000_000:
    parts = []
    for _ in range(37):
        i += 1
        parts.append(('\x1b[3%dm%d \u00e9\u4e2d\x1b[1;4%dm%s\x1b[0m\x1b[K\r\n' % (i % 8, i, (i * 3) % 8, 'ab\u00fc' * (i % 23))).encode())
        if i % (11 if dense else 3000) == 0:
            parts.append(('\x1b[%d;%dH\x1b[7m<%d>\x1b[27m' % (1 + i % 24, 1 + (i * 7) % 70, i)).encode())
        if i % (97 if dense else 3000) == 0:
            parts.append(('\x1b]0;title %d\x07' % i).encode())
    chunk = b''.join(parts)
    for off in range(0, len(chunk), 1531):
        piece = chunk[off:off + 1531]
        out.write(piece)
        out.flush()
        ref.write(piece)
    total += len(chunk)
out.flush()
# A pause before the last words: a client still lagging behind the flood is resynced
# now, so every client ends on a stream it received whole.
time.sleep(1.5)
out.write(b'\x1b[5;10H\x1b[32mdone\x1b[0m\x1b[10;1H')
ref.write(b'\x1b[5;10H\x1b[32mdone\x1b[0m\x1b[10;1H')
ref.close()
out.flush()
`;

interface ClientPlayback {
  /** The reason of each screen message, in order. */
  screens: string[];
  /** The terminal right after the latest screen was drawn, before any bytes after it. */
  atScreen: string;
  /** Output bytes received after the latest screen. */
  bytesAfterScreen: number;
  /** The terminal after the latest screen and the first few bytes after it, where a cut inside a sequence would show. */
  justAfterScreen: string;
  /** The terminal after everything the client received. */
  final: string;
}


/**
 * What one attached client ends up showing. Messages are only stored while the flood
 * runs (parsing them here would make this client slow and resynced more often), then
 * played back: every screen message redraws on a blank terminal of its size.
 */
async function playback(ws: WebSocket): Promise<ClientPlayback> {
  const messages: Array<{ binary: boolean; data: Buffer }> = [];
  ws.on('message', (data: Buffer, binary: boolean) => messages.push({ binary, data }));
  const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()));
  ws.resume();
  await closed;
  const screens: string[] = [];
  let last: { data: string; cols: number; rows: number } | undefined;
  let after: Uint8Array[] = [];
  for (const m of messages) {
    if (m.binary) {
      after.push(new Uint8Array(m.data));
      continue;
    }
    const msg = JSON.parse(m.data.toString()) as { type: string; reason: string; data: string; cols: number; rows: number };
    assert.equal(msg.type, 'screen');
    screens.push(msg.reason);
    last = msg;
    after = [];
  }
  assert.ok(last, 'the client got a screen');
  return {
    screens,
    atScreen: await referenceScreen(last.cols, last.rows, [last.data]),
    bytesAfterScreen: after.reduce((n, b) => n + b.length, 0),
    justAfterScreen: await referenceScreen(last.cols, last.rows, [last.data, Buffer.concat(after).subarray(0, JUST_AFTER)]),
    final: await referenceScreen(last.cols, last.rows, [last.data, ...after]),
  };
}

for (const mode of ['dense', 'log']) {
  test(`clients attaching during heavy output (${mode}) end on exactly the screen of a reference parse of the same bytes`, { timeout: 180_000 }, async () => {
    const sb = makeSandbox();
    const daemon = await startDaemonProcess(sb);
    try {
      const gen = join(sb.workspace, 'gen.py');
      const refPath = join(sb.workspace, 'reference.bin');
      writeFileSync(gen, GENERATOR);
      await spawnAgent(sb, 'flood', ['sh', '-c', `stty -opost -echo; read go; exec python3 ${gen} ${refPath} ${mode}`], { backend: 'none', cols: COLS, rows: ROWS });
      const playbacks = [playback(await sb.client.attach('flood', { readOnly: 1 }))];
      await sb.client.call('POST', '/v1/agents/flood/input', { data: 'go\r' });
      // Attach at staggered points while the flood runs: the holder's parser is then
      // behind the output it has already sent, and snapshots land mid-stream.
      await waitFor('the flood to begin', async () => (await sb.client.logs('flood')).length > 0 || undefined);
      for (const delay of [0, 100, 250]) {
        await sleep(delay);
        playbacks.push(playback(await sb.client.attach('flood', { readOnly: 1 })));
      }
      const clients = await Promise.all(playbacks);
      // A terminal client gets the output through the attach filter (titles dropped,
      // src/terminal/output-filter.ts): the stream it must receive exactly is the
      // reference, filtered.
      const printed = readFileSync(refPath);
      assert.ok(printed.length > 12_000_000, 'the generator wrote its whole output');
      const reference = new OutputFilter('terminal').push(printed);
      const expected = await referenceScreen(COLS, ROWS, [new Uint8Array(reference)]);
      assert.match(expected, /done/, 'the reference ends on the final screen');
      let midStream = 0;
      for (const [i, c] of clients.entries()) {
        const label = `client ${i} (screens: ${c.screens.join(', ')}; ${c.bytesAfterScreen} bytes after the last)`;
        assert.equal(c.screens[0], 'attach', `${label}: its screen came first`);
        // Everything after a screen is the exact stream from the screen's offset to the
        // end, so that offset is known: the screen must equal the reference parsed to it.
        const offset = reference.length - c.bytesAfterScreen;
        assert.ok(offset >= 0, `${label}: no byte was sent twice`);
        if (offset > 0) midStream++;
        assert.equal(c.atScreen, await referenceScreen(COLS, ROWS, [new Uint8Array(reference.subarray(0, offset))]), `${label}: the screen is the reference screen at offset ${offset}`);
        assert.equal(c.justAfterScreen, await referenceScreen(COLS, ROWS, [new Uint8Array(reference.subarray(0, offset + JUST_AFTER))]), `${label}: the screen and the next ${JUST_AFTER} bytes are the reference`);
        assert.equal(c.final, expected, `${label}: it ends on the reference screen`);
      }
      assert.ok(midStream > 0, 'at least one client got a screen taken in the middle of the flood');
      await waitFor('exited', async () => (await sb.client.call<{ agent: { state: string } }>('GET', '/v1/agents/flood')).agent.state === 'exited' || undefined);
    } finally {
      await cleanup(sb, daemon);
    }
  });
}
