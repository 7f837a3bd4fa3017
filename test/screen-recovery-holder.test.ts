import { test } from 'node:test';
import { referenceScreen } from './support/reference-screen.js';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { celistraPaths } from '../src/policy/paths.js';
import { launchHolder } from '../src/holder/launch.js';
import { holderFiles } from '../src/holder/config.js';
import { encodeFrame, FrameDecoder, FrameKind, type Frame } from '../src/holder/frame.js';
import { CRASH_START, CRASH_STEPS } from './screen-crash-sequence.js';
import { scratchDir } from './support/scratch-dir.js';

/** Running, not merely unreaped: a zombie still answers kill(pid, 0). */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  const stat = existsSync(`/proc/${pid}/stat`) ? readFileSync(`/proc/${pid}/stat`, 'utf8') : '';
  return !/^\d+ \(.*\) Z/.test(stat);
}

async function waitFor(what: string, probe: () => boolean, timeoutMs = 5000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}


/** The daemon's side of a holder connection, reduced to what this test needs. */
class RawLink {
  readonly frames: Frame[] = [];
  output = Buffer.alloc(0);
  private readonly decoder = new FrameDecoder();

  private constructor(private readonly sock: Socket) {
    sock.on('data', (chunk) => {
      for (const f of this.decoder.push(chunk)) {
        this.frames.push(f);
        if (f.kind === FrameKind.output) this.output = Buffer.concat([this.output, f.bytes]);
      }
    });
  }

  static open(path: string): Promise<RawLink> {
    return new Promise((resolve, reject) => {
      const sock = connect(path, () => resolve(new RawLink(sock)));
      sock.once('error', reject);
    });
  }

  send(kind: FrameKind, json: Record<string, unknown> = {}, bytes?: Buffer): void {
    this.sock.write(encodeFrame(kind, json, bytes));
  }

  /** Input to the agent (a raw `cat`), then wait until it has come back as output. */
  async echo(text: string): Promise<void> {
    const want = this.output.length + Buffer.byteLength(text);
    this.send(FrameKind.input, {}, Buffer.from(text));
    await waitFor(`the echo of ${JSON.stringify(text.slice(0, 20))}`, () => this.output.length >= want);
  }

  /** Everything the agent printed (the holder's ring), including what came before we connected. */
  async logs(): Promise<Buffer> {
    const id = Math.random();
    this.send(FrameKind.logsRequest, { id });
    await waitFor('the logs', () => this.frames.some((f) => f.kind === FrameKind.logs && f.json.id === id));
    return this.frames.find((f) => f.kind === FrameKind.logs && f.json.id === id)!.bytes;
  }

  close(): void {
    this.sock.destroy();
  }
}

test('an exception inside @xterm/headless does not kill the holder: the agent runs on, its PTY stays open, and attach still gets a screen', async () => {
  const root = scratchDir('celistra-screen-recovery-');
  const env = { HOME: join(root, 'home'), XDG_STATE_HOME: join(root, 'state'), XDG_CONFIG_HOME: join(root, 'config'), XDG_RUNTIME_DIR: join(root, 'run') };
  for (const d of Object.values(env)) mkdirSync(d, { recursive: true, mode: 0o700 });
  const paths = celistraPaths(env);
  const runId = 'recovery.1';
  let holderPid: number | undefined;
  let link: RawLink | undefined;
  try {
    const started = await launchHolder(paths, {
      agent: 'recovery',
      runId,
      // Raw mode, no echo: every input byte comes back as output unchanged.
      plan: { backend: 'none', file: '/bin/sh', args: ['-c', 'stty raw -echo && printf READY && exec cat'], env: { PATH: process.env.PATH ?? '/usr/bin:/bin', TERM: 'xterm-256color' }, cwd: root, notes: [] },
      cols: CRASH_START.cols,
      rows: CRASH_START.rows,
      scrollbackBytes: 1024 * 1024,
    });
    holderPid = started.holderPid;
    link = await RawLink.open(holderFiles(paths, runId).socketPath);
    // Printed before we connected, so it is in the ring only: then the terminal is raw.
    for (let tries = 0; !(await link.logs()).toString().endsWith('READY'); tries++) {
      assert.ok(tries < 500, 'the agent printed READY');
      await new Promise((r) => setTimeout(r, 10));
    }

    for (const step of CRASH_STEPS) {
      if ('output' in step) await link.echo(step.output);
      else link.send(FrameKind.resize, { cols: step.cols, rows: step.rows });
    }
    const logPath = holderFiles(paths, runId).logPath;
    await waitFor('the failure in the holder log', () => readFileSync(logPath, 'utf8').includes('isWrapped'));
    // Time for a holder that is going down anyway (as before the fix) to be gone.
    await new Promise((r) => setTimeout(r, 200));

    assert.equal(isAlive(holderPid), true, 'the holder is alive');
    assert.equal(isAlive(started.pid), true, 'the agent is alive');
    await link.echo('still here\r\n');
    link.send(FrameKind.snapshotRequest, { id: 7 });
    await waitFor('the snapshot', () => link!.frames.some((f) => f.kind === FrameKind.snapshot));
    const snap = link.frames.find((f) => f.kind === FrameKind.snapshot)!;
    assert.equal(snap.json.id, 7);
    assert.deepEqual([snap.json.cols, snap.json.rows], [26, 11]);
    // The rebuilt model replayed the holder's ring (all output here) at the current size.
    assert.equal(await referenceScreen(26, 11, [String(snap.json.screen), snap.bytes]), await referenceScreen(26, 11, [await link.logs()]));
    assert.match(String(snap.json.screen), /still here/);

    // From a reset terminal at the first size the sequence fails again: the model is
    // rebuilt again (its screen is again the ring replayed at the current size), and the
    // same error is not logged twice.
    link.send(FrameKind.resize, CRASH_START);
    await link.echo('\x1bc');
    for (const step of CRASH_STEPS) {
      if ('output' in step) await link.echo(step.output);
      else link.send(FrameKind.resize, { cols: step.cols, rows: step.rows });
    }
    await link.echo('and again\r\n');
    link.send(FrameKind.snapshotRequest, { id: 8 });
    await waitFor('the second snapshot', () => link!.frames.some((f) => f.kind === FrameKind.snapshot && f.json.id === 8));
    const again = link.frames.find((f) => f.kind === FrameKind.snapshot && f.json.id === 8)!;
    assert.equal(await referenceScreen(26, 11, [String(again.json.screen), again.bytes]), await referenceScreen(26, 11, [await link.logs()]));
    assert.match(String(again.json.screen), /and again/);
    const log = readFileSync(logPath, 'utf8');
    assert.equal(log.match(/terminal emulator failed/g)?.length, 1, `logged once:\n${log}`);
    assert.equal(isAlive(holderPid), true);
    assert.equal(isAlive(started.pid), true);
    assert.equal(link.frames.some((f) => f.kind === FrameKind.exit), false, 'the agent did not exit');
  } finally {
    link?.close();
    if (holderPid !== undefined && isAlive(holderPid)) {
      // SIGTERM: the holder hangs up the agent and removes its socket.
      process.kill(holderPid, 'SIGTERM');
      await waitFor('the holder to exit', () => !isAlive(holderPid!)).catch(() => process.kill(holderPid!, 'SIGKILL'));
    }
    rmSync(root, { recursive: true, force: true });
  }
});
