import { test } from 'node:test';
import assert from 'node:assert/strict';
import xtermHeadless from '@xterm/headless';
import { SerializeAddon } from '@xterm/addon-serialize';
import { ScreenFeed, type ScreenAt } from '../src/terminal/screen-feed.js';

const COLS = 80;
const ROWS = 24;

/** Numbered, coloured lines with cursor jumps and wide characters: any lost or repeated byte shows. */
function output(lines: number): Buffer {
  const parts: string[] = [];
  for (let i = 1; i <= lines; i++) {
    parts.push(`\x1b[3${i % 8}m${i} \u00e9\u4e2d\x1b[1;4${(i * 3) % 8}m${'ab\u00fc'.repeat(i % 23)}\x1b[0m\x1b[K\r\n`);
    if (i % 11 === 0) parts.push(`\x1b[${1 + (i % 24)};${1 + ((i * 7) % 70)}H\x1b[7m<${i}>\x1b[27m`);
  }
  return Buffer.from(parts.join(''));
}

function render(...chunks: Array<string | Uint8Array>): Promise<string> {
  const term = new xtermHeadless.Terminal({ cols: COLS, rows: ROWS, scrollback: 0, allowProposedApi: true });
  const serializer = new SerializeAddon();
  term.loadAddon(serializer);
  for (const c of chunks) term.write(c);
  return new Promise((resolve) => term.write('', () => resolve(serializer.serialize({ scrollback: 0 }))));
}

test('a snapshot taken while the parser lags is the screen at its offset, at a sequence boundary, and screen + bytesSince redraws the present', async () => {
  const all = output(20_000);
  let progress = 0;
  const screen = new ScreenFeed(COLS, ROWS, () => progress++);
  try {
    const answers: Array<Promise<{ at: ScreenAt; tail: Buffer; written: number }>> = [];
    let written = 0;
    // Odd-sized chunks, so chunk ends fall inside escape sequences and UTF-8 characters.
    for (let off = 0, n = 0; off < all.length; off += 997, n++) {
      const chunk = all.subarray(off, off + 997);
      screen.write(Buffer.from(chunk));
      written += chunk.length;
      if (n % 150 === 7) {
        const at = written;
        answers.push(
          new Promise((resolve) => screen.snapshot((s) => resolve({ at: s, tail: screen.bytesSince(s.offset), written: at }))),
        );
      }
    }
    assert.ok(screen.backlog > 0, 'the parser is behind the writes');
    const results = await Promise.all(answers);
    assert.ok(results.length > 5);
    for (const { at, tail, written: w } of results) {
      assert.ok(at.offset >= w, `the snapshot covers everything written before it was asked for (${at.offset} >= ${w})`);
      assert.equal(at.screen.length > 0, true);
      assert.deepEqual(tail, all.subarray(at.offset, at.offset + tail.length), 'the tail is the stream from the offset on');
      assert.equal(await render(at.screen), await render(all.subarray(0, at.offset)), `the screen is the reference at ${at.offset}`);
      // Right after the cut is where a snapshot inside a sequence would show (as text).
      for (const k of [8, 64, tail.length]) {
        assert.equal(await render(at.screen, tail.subarray(0, k)), await render(all.subarray(0, at.offset + k)), `screen + ${k} bytes of the tail is the reference`);
      }
    }
    assert.ok(progress > 0);
  } finally {
    screen.dispose();
  }
});

test('a snapshot asked for while the agent is in the middle of an escape sequence waits for its end', async () => {
  let progress = () => {};
  const screen = new ScreenFeed(COLS, ROWS, () => progress());
  try {
    const head = 'hello \x1b[3';
    const rest = '1mred\x1b[0m';
    const parsed = new Promise<void>((resolve) => (progress = () => screen.backlog === 0 && resolve()));
    screen.write(Buffer.from(head));
    await parsed;
    const answer = new Promise<ScreenAt>((resolve) => screen.snapshot(resolve));
    setTimeout(() => screen.write(Buffer.from(rest)), 10);
    const at = await answer;
    assert.equal(at.offset, head.length + rest.length, 'answered after the sequence ended, not at the cut');
    assert.equal(await render(at.screen, screen.bytesSince(at.offset), '!'), await render(head + rest + '!'));
  } finally {
    screen.dispose();
  }
});

test('an agent that stops inside a sequence still gets its screen', async () => {
  const screen = new ScreenFeed(COLS, ROWS, () => {});
  try {
    screen.write(Buffer.from('prompt> \x1b[3'));
    const at = await new Promise<ScreenAt>((resolve) => screen.snapshot(resolve));
    assert.equal(at.offset, 11);
    assert.match(at.screen, /prompt>/);
  } finally {
    screen.dispose();
  }
});
