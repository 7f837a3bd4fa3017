import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalJson } from '../src/audit/canonical.js';
import { canonicalRow, chainHash, GENESIS_HASH } from '../src/audit/hash-chain.js';
import { createHash } from 'node:crypto';

test('canonical JSON sorts object keys at every depth and has no whitespace', () => {
  assert.equal(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: 'x' } }), '{"a":{"c":"x","d":[3,{"y":2,"z":1}]},"b":1}');
});

test('canonical JSON is the same for the same value whatever the key insertion order', () => {
  assert.equal(canonicalJson({ x: 1, y: [1, 2] }), canonicalJson({ y: [1, 2], x: 1 }));
});

test('canonical JSON drops undefined object fields, nulls undefined array items, and nulls non-finite numbers', () => {
  assert.equal(canonicalJson({ a: undefined, b: [undefined, NaN, Infinity, -0], c: null }), '{"b":[null,null,null,0],"c":null}');
});

test('canonical JSON escapes strings as JSON does, including unicode and control characters', () => {
  const s = 'quote " backslash \\ newline \n tab \t nul \u0000 é 😀';
  assert.equal(canonicalJson(s), JSON.stringify(s));
  assert.equal(JSON.parse(canonicalJson({ s })).s, s);
});

test('the row hash is sha256 of the previous hash followed by the canonical row, as documented', () => {
  const row = { id: 1, ts: 1767225600000, type: 'spawn', agent: 'a"b', data: '{"command":["ls"]}' };
  const canonical = canonicalRow(row);
  assert.equal(canonical, '{"agent":"a\\"b","data":{"command":["ls"]},"id":1,"ts":1767225600000,"type":"spawn"}');
  assert.equal(chainHash(GENESIS_HASH, canonical), createHash('sha256').update(`${'0'.repeat(64)}${canonical}`, 'utf8').digest('hex'));
  assert.equal(canonicalRow({ ...row, agent: null }).startsWith('{"agent":null,'), true);
});
