// A snapshot taken while the cursor waits to wrap cannot be redrawn exactly: the model
// must not call such a point exact (ScreenModel.atExactRedrawPoint, used by ScreenFeed).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ScreenModel } from '../src/terminal/screen.js';
import { referenceScreen } from './support/reference-screen.js';

const COLS = 10;
const ROWS = 3;

async function modelAfter(text: string): Promise<ScreenModel> {
  const model = new ScreenModel(COLS, ROWS, () => assert.fail('no failure expected'));
  model.write(Buffer.from(text));
  await new Promise<void>((r) => model.whenParsed(r));
  return model;
}

test('a full last column leaves the cursor waiting to wrap: not an exact redraw point', async () => {
  // Text below the cursor's line, as in a full-screen program: the redraw then has to move
  // the cursor back up, which drops the pending wrap.
  const full = 'line 2\r\nline 3\x1b[1;1H\x1b[31m0123456789';
  const model = await modelAfter(full);
  try {
    assert.equal(model.atExactRedrawPoint(), false);
    // Why: the snapshot plus the next character is not what the terminal shows.
    const snapshot = model.serialize()!;
    assert.notEqual(await referenceScreen(COLS, ROWS, [snapshot, 'X']), await referenceScreen(COLS, ROWS, [full, 'X']));
  } finally {
    model.dispose();
  }
});

test('one more character (the wrap done), or a line not yet full, is an exact point again', async () => {
  for (const text of ['line 2\r\nline 3\x1b[1;1H\x1b[31m0123456789X', 'line 2\r\nline 3\x1b[1;1H\x1b[31m012345678', '0123456789\r\n', '\x1b[31m0123456789\x1b[1;1H']) {
    const model = await modelAfter(text);
    try {
      assert.equal(model.atExactRedrawPoint(), true, JSON.stringify(text));
      const snapshot = model.serialize()!;
      assert.equal(await referenceScreen(COLS, ROWS, [snapshot, 'YZ']), await referenceScreen(COLS, ROWS, [text, 'YZ']), JSON.stringify(text));
    } finally {
      model.dispose();
    }
  }
});

test('half an escape sequence or half a UTF-8 character is not an exact point', async () => {
  for (const bytes of [Buffer.from('abc\x1b[3'), Buffer.from([0x61, 0x62, 0x63, 0xc3])]) {
    const model = new ScreenModel(COLS, ROWS, () => assert.fail('no failure expected'));
    try {
      model.write(bytes);
      await new Promise<void>((r) => model.whenParsed(r));
      assert.equal(model.atExactRedrawPoint(), false, bytes.toString('hex'));
    } finally {
      model.dispose();
    }
  }
});
