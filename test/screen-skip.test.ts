import { test } from 'node:test';
import assert from 'node:assert/strict';
import xtermHeadless from '@xterm/headless';
import { SerializeAddon } from '@xterm/addon-serialize';
import { ScreenModel } from '../src/terminal/screen.js';
import { skipScrolledOff } from '../src/terminal/screen-skip.js';

const COLS = 40;
const ROWS = 10;

/** A reference terminal fed every byte, compared with the model that skips. */
function reference(cols: number, rows: number) {
  const term = new xtermHeadless.Terminal({ cols, rows, scrollback: 0, allowProposedApi: true });
  const serializer = new SerializeAddon();
  term.loadAddon(serializer);
  return { term, serialize: () => serializer.serialize({ scrollback: 0 }) };
}

/** Deterministic pseudo-random numbers, so a failure can be replayed. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const PLAIN_PIECES = [
  'hello world ',
  'x'.repeat(37),
  'y'.repeat(95), // wraps
  '\t',
  '\u00e9\u00fc',
  '\u4e2d\u6587', // wide characters
  '\u{1f600}',
  '\x1b[31m',
  '\x1b[1;44m',
  '\x1b[38;2;10;20;30m',
  '\x1b[4:3m',
  '\x1b[58:5:3m',
  '\x1b[59m',
  '\x1b[0m',
  '\x1b[m',
  '\x1b[K',
  '\x1b[2K',
  '\r',
  '\r\n',
  '\r\n',
  '\r\n',
  '\n',
];
/** What a plain run may not contain: moves, regions, modes, the other buffer, strings. */
const OTHER_PIECES = ['\x1b[3;7r\x1b[5;1Hin the region\r\n\r\n\r\n\r\n\x1b[r', '\x1b[5;3H', '\x1b[A', '\x1b[?1049h', '\x1b[?1049l', '\x1b]0;title\x07', '\x1b[?7l', '\x1b[?7h', '\x08', '\x1b7', '\x1b8', '\x1bM', '\x1b[4h', '\x1b[4l', '\x1b[2J'];

function stream(random: () => number, pieces: number, otherRate: number): Buffer {
  const parts: string[] = [];
  for (let i = 0; i < pieces; i++) {
    const pool = random() < otherRate ? OTHER_PIECES : PLAIN_PIECES;
    parts.push(pool[Math.floor(random() * pool.length)]!);
  }
  return Buffer.from(parts.join(''));
}

/** Compares the screens after feeding `data` in random chunks; returns the bytes skipped. */
async function compare(data: Buffer, random: () => number, resizes: boolean): Promise<number> {
  const model = new ScreenModel(COLS, ROWS);
  const ref = reference(COLS, ROWS);
  let off = 0;
  while (off < data.length) {
    const n = 1 + Math.floor(random() * 3000);
    const chunk = data.subarray(off, off + n);
    off += n;
    model.write(chunk);
    ref.term.write(chunk);
    // Parsing runs behind the writes, sometimes catching up, as in the holder.
    if (random() < 0.2) await new Promise<void>((resolve) => model.whenParsed(resolve));
    if (resizes && random() < 0.05) {
      const cols = 20 + Math.floor(random() * 40);
      const rows = 5 + Math.floor(random() * 15);
      model.resize(cols, rows);
      ref.term.write('', () => ref.term.resize(cols, rows));
    }
  }
  await new Promise<void>((resolve) => model.whenParsed(resolve));
  await new Promise<void>((resolve) => ref.term.write('', resolve));
  assert.equal(model.serialize(), ref.serialize());
  const skipped = model.skippedBytes;
  model.dispose();
  ref.term.dispose();
  return skipped;
}

test('plain text that scrolls off is skipped; the rest of the chunk is kept', () => {
  const lines = Buffer.from(Array.from({ length: 100 }, (_, i) => `\x1b[3${i % 8}mline ${i}\x1b[0m\r\n`).join('') + 'tail');
  const { feed, carry } = skipScrolledOff(lines, 24);
  assert.deepEqual(carry, Buffer.alloc(0));
  // The first 76 lines leave only their last SGR reset, then CR and 24 LFs; the last 24
  // lines (and the unfinished one) are kept verbatim.
  const kept = lines.subarray(lines.indexOf('\x1b[34mline 76'));
  assert.equal(feed.toString(), `\x1b[0m\r${'\n'.repeat(24)}${kept.toString()}`);
  // After SGR 59 a reset does not restore everything: all the SGRs are kept.
  const with59 = Buffer.from(`\x1b[59m${lines.toString()}`);
  const all = Array.from({ length: 76 }, (_, i) => `\x1b[3${i % 8}m\x1b[0m`).join('');
  assert.equal(skipScrolledOff(with59, 24).feed.toString(), `\x1b[59m${all}\r${'\n'.repeat(24)}${kept.toString()}`);
});

test('nothing is skipped without enough lines after the cut, or past a non-plain sequence', () => {
  const few = Buffer.from('a\r\n'.repeat(47));
  assert.equal(skipScrolledOff(few, 24).feed, few);
  const moved = Buffer.from(`${'a\r\n'.repeat(30)}\x1b[H${'b\r\n'.repeat(30)}`);
  const r = skipScrolledOff(moved, 24);
  assert.equal(r.feed, moved);
  assert.equal(r.carry, undefined);
  // A C1 control in UTF-8 (U+009B is CSI to the parser) ends the plain run.
  const c1 = Buffer.concat([Buffer.from('a\r\n'.repeat(60)), Buffer.from([0xc2, 0x9b]), Buffer.from('1m')]);
  assert.equal(skipScrolledOff(c1, 24).carry, undefined);
});

test('an SGR sequence or character cut by the chunk end is carried into the next chunk', () => {
  assert.deepEqual(skipScrolledOff(Buffer.from([0x61, 0xe4, 0xb8]), 24).carry, Buffer.from([0xe4, 0xb8]));
  assert.deepEqual(skipScrolledOff(Buffer.from('ab\x1b[38;5'), 24).carry, Buffer.from('\x1b[38;5'));
  // The next chunk completes the carried SGR as is, keeps the other SGRs, skips the text.
  const next = Buffer.from(`;9m${'t\x1b[1mu\r\n'.repeat(30)}`);
  const { feed, carry } = skipScrolledOff(next, 10, Buffer.from('\x1b[38;5'));
  assert.deepEqual(carry, Buffer.alloc(0));
  assert.equal(feed.toString(), `;9m${'\x1b[1m'.repeat(20)}\r${'\n'.repeat(10)}${'t\x1b[1mu\r\n'.repeat(10)}`);
  // An ESC not followed by [ is not plain, even cut at the end.
  assert.equal(skipScrolledOff(Buffer.from('a\x1b]0;t'), 24).carry, undefined);
});

test('the model that skips shows exactly what a terminal fed every byte shows', async () => {
  let skipped = 0;
  let total = 0;
  // 291 and 342 shrink the terminal in the alternate buffer, which keeps lines above the screen.
  for (const seed of [...Array.from({ length: 40 }, (_, i) => i + 1), 291, 342]) {
    const random = rng(seed);
    // Mostly plain floods, with a few moves, regions and mode switches in between.
    const data = stream(random, 4000, seed % 4 === 0 ? 0 : 0.002);
    total += data.length;
    skipped += await compare(data, random, seed % 3 === 0);
  }
  // A good part was skipped, so the comparisons did test skipping.
  assert.ok(skipped > total / 5, `skipped ${skipped} of ${total} bytes`);
});

test('nothing is skipped while a scroll region is set, and skipping resumes once it is reset', async () => {
  const region = `\x1b[2;8r\x1b[5;1H${'text that must stay\r\n'.repeat(300)}`;
  assert.equal(await compare(Buffer.from(region), rng(98), false), 0);
  assert.ok((await compare(Buffer.from(`${region}\x1b[r\x1b[24;1H${'after the reset\r\n'.repeat(2000)}`), rng(99), false)) > 10_000);
});

test('a flood of 80-byte lines is almost all skipped, in chunks cut anywhere', async () => {
  const model = new ScreenModel(80, 24);
  const lines = Buffer.from(`${'x'.repeat(79)}\r\n`.repeat(2000));
  model.write(lines.subarray(0, 50_001));
  model.write(lines.subarray(50_001));
  await new Promise<void>((resolve) => model.whenParsed(resolve));
  assert.equal(model.parsedBytes, lines.length);
  assert.ok(model.skippedBytes > lines.length * 0.9, `skipped ${model.skippedBytes} of ${lines.length}`);
  const ref = reference(80, 24);
  ref.term.write(lines);
  await new Promise<void>((resolve) => ref.term.write('', resolve));
  assert.equal(model.serialize(), ref.serialize());
});
