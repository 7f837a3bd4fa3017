import { test } from 'node:test';
import { referenceScreen } from './support/reference-screen.js';
import assert from 'node:assert/strict';
import xtermHeadless from '@xterm/headless';
import { SerializeAddon } from '@xterm/addon-serialize';
import { ScreenModel } from '../src/terminal/screen.js';
import { ScreenFeed, type ScreenAt } from '../src/terminal/screen-feed.js';
import { guardParser, isXtermError } from '../src/terminal/screen-guard.js';
import { CRASH_START, CRASH_STEPS } from './screen-crash-sequence.js';

const ISWRAPPED = /Cannot set properties of undefined \(setting 'isWrapped'\)/;


/** Fails clearly instead of hanging the run when a callback is never called. */
function within<T>(ms: number, what: string, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: nothing after ${ms} ms`)), ms)));
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

function numberedLines(from: number, to: number): string {
  let s = '';
  for (let i = from; i <= to; i++) s += `\x1b[3${i % 8}mline ${i}\x1b[0m ${'ab'.repeat(i % 9)}\r\n`;
  return s;
}

test('xterm throws from its own parsing timer on the captured sequence; guardParser catches it and the write queue keeps draining', async () => {
  const term = new xtermHeadless.Terminal({ ...CRASH_START, scrollback: 0, allowProposedApi: true });
  const errors: unknown[] = [];
  assert.equal(typeof guardParser(term, (e) => errors.push(e)), 'function', 'the parser internals are there in this xterm version');
  try {
    for (const step of CRASH_STEPS) {
      if ('output' in step) await within(2000, 'write callback', new Promise<void>((r) => term.write(step.output, r)));
      else term.resize(step.cols, step.rows);
    }
    assert.equal(errors.length, 1, 'xterm threw once (if it no longer does, the bug is fixed upstream: refresh the captured sequence)');
    assert.match(String((errors[0] as Error).message), ISWRAPPED);
    assert.equal(isXtermError(errors[0]), true, 'recognised as thrown by xterm itself');
    // Without the guard xterm's write queue stops for good after a throw.
    await within(2000, 'write after the throw', new Promise<void>((r) => term.write('more', r)));
  } finally {
    term.dispose();
  }
});

test('isXtermError takes only errors whose top frame is in @xterm', async () => {
  assert.equal(isXtermError(new Error('ours')), false);
  assert.equal(isXtermError('a string'), false);
  assert.equal(isXtermError(undefined), false);
  // Our own code called back from xterm's timer: xterm frames below ours do not count.
  const term = new xtermHeadless.Terminal({ cols: 10, rows: 3, scrollback: 0, allowProposedApi: true });
  try {
    const fromCallback = await new Promise<Error>((resolve) =>
      term.write('x', () => {
        try {
          throw new Error('thrown in a write callback');
        } catch (e) {
          resolve(e as Error);
        }
      }),
    );
    assert.match(fromCallback.stack ?? '', /@xterm/, 'xterm frames are on the stack');
    assert.equal(isXtermError(fromCallback), false);
  } finally {
    term.dispose();
  }
});

test('ScreenModel reports an xterm failure once, later, and then ignores calls instead of throwing', async () => {
  const failures: unknown[] = [];
  let reportedSynchronously = false;
  let inCall = false;
  const model = new ScreenModel(CRASH_START.cols, CRASH_START.rows, (e) => {
    failures.push(e);
    if (inCall) reportedSynchronously = true;
  });
  try {
    for (const step of CRASH_STEPS) {
      inCall = true;
      if ('output' in step) model.write(Buffer.from(step.output));
      else model.resize(step.cols, step.rows);
      inCall = false;
    }
    await within(2000, 'the failure', new Promise<void>((r) => {
      const poll = () => (failures.length > 0 ? r() : setTimeout(poll, 5));
      poll();
    }));
    assert.equal(reportedSynchronously, false);
    assert.equal(model.failed, true);
    assert.match(String((failures[0] as Error).message), ISWRAPPED);
    model.write(Buffer.from('more\r\n'));
    model.resize(30, 8);
    assert.equal(model.serialize(), undefined);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(failures.length, 1, 'reported once');
  } finally {
    model.dispose();
  }
});

test('a disposed model stops parsing what is still queued in xterm and calls nobody back', async () => {
  const model = new ScreenModel(80, 24, () => assert.fail('no failure expected'));
  let callbacks = 0;
  for (let i = 0; i < 100; i++) model.write(Buffer.from(`${'word '.repeat(20_000)}\r\n`), () => callbacks++);
  await new Promise<void>((r) => model.whenParsed(r));
  for (let i = 0; i < 100; i++) model.write(Buffer.from(`${'word '.repeat(20_000)}\r\n`), () => callbacks++);
  const atDispose = callbacks;
  model.dispose();
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(callbacks, atDispose, 'no callback after dispose');
});

test("guardParser's stop: what is queued after it drains (callbacks run) without being parsed", async () => {
  const term = new xtermHeadless.Terminal({ cols: 20, rows: 3, scrollback: 0, allowProposedApi: true });
  try {
    const stop = guardParser(term, () => assert.fail('no throw expected'))!;
    await new Promise<void>((r) => term.write('before', r));
    const drained = new Promise<void>((r) => term.write('\r\nafter', r));
    stop();
    await within(2000, 'write callback after stop', drained);
    const lines = [0, 1].map((y) => term.buffer.active.getLine(y)?.translateToString(true));
    assert.deepEqual(lines, ['before', '']);
  } finally {
    term.dispose();
  }
});

test('ScreenFeed rebuilds after the failure from the history: the screen is the history at the current size, and output, snapshots and resizes go on', async () => {
  let written = Buffer.alloc(0);
  const failures: unknown[] = [];
  let progress = 0;
  const feed = new ScreenFeed(CRASH_START.cols, CRASH_START.rows, () => progress++, {
    history: () => written,
    onFailure: (e) => failures.push(e),
  });
  const write = (s: string) => {
    const b = Buffer.from(s);
    written = Buffer.concat([written, b]);
    feed.write(b);
  };
  const snapshot = () => within(2000, 'snapshot', new Promise<ScreenAt>((r) => feed.snapshot(r)));
  try {
    // All at once: the failure happens with more output queued behind it in xterm.
    for (const step of CRASH_STEPS) {
      if ('output' in step) write(step.output);
      else feed.resize(step.cols, step.rows);
    }
    write(numberedLines(1, 40));
    const at = await snapshot();
    assert.equal(failures.length, 1);
    assert.match(String((failures[0] as Error).message), ISWRAPPED);
    assert.equal(at.offset, written.length, 'the snapshot covers everything written');
    assert.deepEqual([at.cols, at.rows, feed.cols, feed.rows], [26, 11, 26, 11]);
    assert.equal(feed.backlog, 0);
    assert.ok(progress > 0, 'progress reported (a paused PTY resumes)');
    assert.equal(await referenceScreen(26, 11, [at.screen]), await referenceScreen(26, 11, [written]));
    assert.match(at.screen, /line 40/);

    // Asked for while output is written on: screen + bytesSince(offset) is the stream.
    write(numberedLines(41, 60));
    const later = within(2000, 'snapshot', new Promise<{ at: ScreenAt; tail: Buffer }>((r) => feed.snapshot((s) => r({ at: s, tail: feed.bytesSince(s.offset) }))));
    write(numberedLines(61, 80));
    const { at: mid, tail } = await later;
    assert.ok(mid.offset >= written.length - Buffer.byteLength(numberedLines(61, 80)));
    assert.deepEqual(tail, written.subarray(mid.offset));
    assert.equal(await referenceScreen(26, 11, [mid.screen, tail]), await referenceScreen(26, 11, [written]));

    const atResize = written.length;
    feed.resize(30, 8);
    write(numberedLines(81, 90));
    const resized = await snapshot();
    assert.deepEqual([resized.cols, resized.rows], [30, 8]);
    const reference = new xtermHeadless.Terminal({ cols: 26, rows: 11, scrollback: 0, allowProposedApi: true });
    const serializer = new SerializeAddon();
    reference.loadAddon(serializer);
    reference.write(written.subarray(0, atResize));
    await new Promise<void>((r) => reference.write('', r));
    reference.resize(30, 8);
    await new Promise<void>((r) => reference.write(written.subarray(atResize), r));
    assert.equal(await referenceScreen(30, 8, [resized.screen]), await referenceScreen(30, 8, [serializer.serialize({ scrollback: 0 })]));
    reference.dispose();
    assert.equal(failures.length, 1, 'no further failure');
  } finally {
    feed.dispose();
  }
});

test('ScreenFeed without history rebuilds a blank screen of the current size, and the output after it shows', async () => {
  let progress = 0;
  const failures: unknown[] = [];
  const feed = new ScreenFeed(CRASH_START.cols, CRASH_START.rows, () => progress++, { onFailure: (e) => failures.push(e) });
  let total = 0;
  const write = (s: string) => {
    total += Buffer.byteLength(s);
    feed.write(Buffer.from(s));
  };
  try {
    for (const step of CRASH_STEPS) {
      if ('output' in step) write(step.output);
      else feed.resize(step.cols, step.rows);
    }
    const at = await within(2000, 'snapshot', new Promise<ScreenAt>((r) => feed.snapshot(r)));
    assert.equal(failures.length, 1);
    assert.equal(at.offset, total);
    assert.equal(await referenceScreen(26, 11, [at.screen]), await referenceScreen(26, 11, ['']), 'blank');
    assert.equal(feed.bytesSince(at.offset).length, 0);
    const progressAtRebuild = progress;
    assert.ok(progressAtRebuild > 0, 'progress reported by the rebuild itself (nothing to parse)');
    write('after the rebuild\r\n');
    const later = await within(2000, 'snapshot', new Promise<ScreenAt>((r) => feed.snapshot(r)));
    assert.equal(await referenceScreen(26, 11, [later.screen]), await referenceScreen(26, 11, ['after the rebuild\r\n']));
  } finally {
    feed.dispose();
  }
});

test('a failure while the history is replayed leads to a blank model, not a loop over the same history', async () => {
  const history = Buffer.from(numberedLines(1, 3000));
  const failures: unknown[] = [];
  const feed = new ScreenFeed(80, 24, () => {}, { history: () => history, onFailure: (e) => failures.push(e) });
  try {
    feed.write(history);
    await within(5000, 'snapshot', new Promise<ScreenAt>((r) => feed.snapshot(r)));
    feed.recover(new Error('first'));
    assert.ok(feed.backlog > 0, 'the history is being replayed');
    feed.recover(new Error('during the replay'));
    assert.equal(feed.backlog, 0, 'the second model got no history');
    const at = await within(2000, 'snapshot', new Promise<ScreenAt>((r) => feed.snapshot(r)));
    assert.equal(at.offset, history.length);
    assert.equal(await referenceScreen(80, 24, [at.screen]), await referenceScreen(80, 24, ['']));
    assert.deepEqual(failures.map((e) => (e as Error).message), ['first', 'during the replay']);
  } finally {
    feed.dispose();
  }
});
