/**
 * The relay's 2 s grace after the command exited (run/stdio-relay.ts, OUTPUT_IDLE_MS) is
 * for a process left behind that holds the output pipe open and silent. It must not
 * count time the relay itself spends waiting to write: a terminal stopped with Ctrl-S, a
 * slow ssh link or a pager that has not read yet is the caller's reader being slow, not
 * the command's holder. Found by attack (issue 15, terminal relay): 1.5 MB printed to a
 * terminal not read for 5 s came out as 16 KB and the note "a process it left behind
 * still holds it open"; the rest was dropped. Here the reader is a FIFO, relayed like a
 * terminal, which stops reading for 4 s; no sandbox is needed (the relay is Celistra's
 * own process).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, constants as fsConstants, mkdtempSync, openSync, readSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { relayScript } from './support/relay-script.js';

const BYTES = 1_500_000;
const STALL_MS = 4000;

const script = relayScript(['inherit', 'relay', 'inherit']);

test('output the caller reads slowly after the command exited is all copied, not dropped as a silent holder', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'celistra-relay-slow-'));
  try {
    const fifo = join(dir, 'fifo');
    assert.equal(spawnSync('mkfifo', [fifo]).status, 0, 'mkfifo');
    // Our reader exists before the writer opens, and reads nothing for STALL_MS.
    const reader = openSync(fifo, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK);
    const run = spawn('sh', ['-c', `exec "$NODE" --input-type=module -e "$SCRIPT" > "$FIFO"`], {
      env: { ...process.env, NODE: process.execPath, SCRIPT: script, FIFO: fifo, CMD: `head -c ${BYTES} /dev/zero | tr '\\0' x; echo END` },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let said = '';
    run.stderr!.on('data', (d: Buffer) => (said += d.toString()));
    const exited = new Promise<number | null>((resolve) => run.once('exit', (code) => resolve(code)));
    await new Promise((r) => setTimeout(r, STALL_MS));
    let got = 0;
    let tail = '';
    const buf = Buffer.alloc(1 << 16);
    let writerSeen = false;
    for (const deadline = Date.now() + 30_000; Date.now() < deadline; ) {
      let n: number;
      try {
        n = readSync(reader, buf, 0, buf.length, null);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
        await new Promise((r) => setTimeout(r, 5));
        continue;
      }
      if (n === 0 && writerSeen) break;
      if (n === 0) {
        await new Promise((r) => setTimeout(r, 5));
        continue;
      }
      writerSeen = true;
      got += n;
      tail = (tail + buf.toString('latin1', 0, n)).slice(-8);
    }
    closeSync(reader);
    assert.equal(await exited, 0, said);
    assert.doesNotMatch(said, /stopped copying/);
    assert.equal(got, BYTES + 'END\n'.length, `${got} bytes arrived (${said})`);
    assert.equal(tail, 'xxxxEND\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
