import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DenialAggregator, type DenialOccurrence, type DenialRecordOut } from '../src/audit/denial-aggregation.js';

function setup(maxKeysPerAgent = 20) {
  const out: DenialRecordOut[] = [];
  const agg = new DenialAggregator({ windowMs: 10_000, maxKeysPerAgent, emit: (e) => out.push(e) });
  return { agg, out };
}

function occ(agent: string, path: string, ts: number, operation = 'fs.write_file'): DenialOccurrence {
  return { agent, backend: 'landlock', operation, path, ts, details: { pid: 42 } };
}

test('the first denial of a path is recorded at once, with its details', () => {
  const { agg, out } = setup();
  agg.add(occ('a', '/etc/passwd', 1));
  assert.deepEqual(out, [{ agent: 'a', data: { pid: 42, backend: 'landlock', operation: 'fs.write_file', count: 1, path: '/etc/passwd' } }]);
});

test('a looping agent yields one event plus one count per window, not one per attempt', () => {
  const { agg, out } = setup();
  for (let i = 0; i < 5000; i++) agg.add(occ('a', '/etc/passwd', 100 + i));
  assert.equal(out.length, 1);
  agg.closeWindow();
  assert.equal(out.length, 2);
  assert.deepEqual(out[1], {
    agent: 'a',
    data: { backend: 'landlock', operation: 'fs.write_file', path: '/etc/passwd', count: 4999, repeated: true, firstTs: 100, lastTs: 5099, windowMs: 10_000 },
  });
  agg.closeWindow();
  assert.equal(out.length, 2, 'a quiet window records nothing');
  agg.add(occ('a', '/etc/passwd', 20_000));
  assert.equal(out.length, 3, 'the next window records the first occurrence again');
});

test('agents, operations and paths are counted apart', () => {
  const { agg, out } = setup();
  agg.add(occ('a', '/x', 1));
  agg.add(occ('b', '/x', 2));
  agg.add(occ('a', '/y', 3));
  agg.add(occ('a', '/x', 4, 'fs.truncate'));
  assert.equal(out.length, 4);
});

test('beyond the distinct-path limit an agent’s denials fold into one overflow count', () => {
  const { agg, out } = setup(3);
  for (let i = 0; i < 100; i++) agg.add(occ('a', `/tmp/f${i}`, i, i % 2 ? 'fs.make_reg' : 'fs.write_file'));
  agg.add(occ('b', '/z', 200));
  assert.equal(out.length, 4, 'three paths of a, then b is not held back by a');
  agg.closeWindow();
  assert.equal(out.length, 5);
  assert.deepEqual(out[4], {
    agent: 'a',
    data: { backend: 'landlock', operation: 'fs.make_reg,fs.write_file', count: 97, overflow: true, firstTs: 3, lastTs: 99, windowMs: 10_000, distinctLimit: 3 },
  });
});
