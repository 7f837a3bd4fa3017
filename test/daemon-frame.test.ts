import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeFrame, FrameDecoder, FrameKind } from '../src/holder/frame.js';

test('frames survive being split and joined at any byte', () => {
  const bytes = Buffer.from([0xe2, 0x82, 0xac, 0x1b, 0x5b, 0x00, 0xff]);
  const stream = Buffer.concat([encodeFrame(FrameKind.output, {}, bytes), encodeFrame(FrameKind.resize, { cols: 100, rows: 30 }), encodeFrame(FrameKind.release)]);
  for (let cut = 0; cut <= stream.length; cut++) {
    const d = new FrameDecoder();
    const frames = [...d.push(stream.subarray(0, cut)), ...d.push(stream.subarray(cut))];
    assert.equal(frames.length, 3);
    assert.deepEqual(frames[0]!.bytes, bytes);
    assert.deepEqual(frames[1]!.json, { cols: 100, rows: 30 });
    assert.equal(frames[2]!.kind, FrameKind.release);
  }
});

test('a frame header claiming an absurd length is an error, not an allocation', () => {
  const head = Buffer.alloc(9);
  head.writeUInt8(FrameKind.output, 0);
  head.writeUInt32BE(0, 1);
  head.writeUInt32BE(0xffffffff, 5);
  assert.throws(() => new FrameDecoder().push(head), /exceeds the limit/);
});
