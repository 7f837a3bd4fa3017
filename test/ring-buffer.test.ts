import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lastLineOf, RingBuffer } from '../src/terminal/ring-buffer.js';

test('a ring keeps the last capacity bytes across wrap-around', () => {
  const r = new RingBuffer(10);
  r.write(Buffer.from('abcdef'));
  r.write(Buffer.from('ghijkl'));
  assert.equal(r.tail().toString(), 'cdefghijkl');
  assert.equal(r.tail(3).toString(), 'jkl');
  assert.equal(r.total, 12);
});

test('a write larger than the ring keeps only its end', () => {
  const r = new RingBuffer(4);
  r.write(Buffer.from('x'));
  r.write(Buffer.from('123456789'));
  assert.equal(r.tail().toString(), '6789');
  r.write(Buffer.from('ab'));
  assert.equal(r.tail().toString(), '89ab');
});

test('a ring refuses a non-positive capacity', () => {
  assert.throws(() => new RingBuffer(0), RangeError);
});

test('the last line drops escape sequences, carriage returns and blank lines', () => {
  assert.equal(lastLineOf(Buffer.from('one\r\n\x1b[31mtwo\x1b[0m\r\n\r\n')), 'two');
  assert.equal(lastLineOf(Buffer.from('progress 10%\rprogress 99%')), 'progress 99%');
  assert.equal(lastLineOf(Buffer.from('\x1b]0;title\x07done')), 'done');
  assert.equal(lastLineOf(Buffer.alloc(0)), '');
});
