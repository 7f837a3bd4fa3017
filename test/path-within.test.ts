import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isAbsolute, relative } from 'node:path';
import { isWithin } from '../src/policy/path-within.js';

const byRelative = (inner: string, outer: string) => {
  const rel = relative(outer, inner);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
};

test('isWithin: a path is within itself and its ancestors, not its siblings or children', () => {
  assert.equal(isWithin('/a/b', '/a/b'), true);
  assert.equal(isWithin('/a/b/c', '/a/b'), true);
  assert.equal(isWithin('/a/b', '/'), true);
  assert.equal(isWithin('/', '/'), true);
  assert.equal(isWithin('/a/bc', '/a/b'), false, 'a shared prefix is not a parent');
  assert.equal(isWithin('/a', '/a/b'), false);
  assert.equal(isWithin('/', '/a'), false);
  assert.equal(isWithin('/a/..b', '/a'), true, 'a name starting with dots is a child');
});

test('isWithin: paths that are not normal are compared after normalising', () => {
  assert.equal(isWithin('/a/b/../c', '/a/b'), false);
  assert.equal(isWithin('/a/b/./c', '/a/b'), true);
  assert.equal(isWithin('/a//b/c', '/a/b/'), true);
  assert.equal(isWithin('/a/b/..', '/a/b'), false);
  assert.equal(isWithin('/a/b', '/a/b/.'), true);
});

test('isWithin agrees with path.relative on many generated pairs', () => {
  const steps = ['a', 'b', 'ab', '.', '..', '', '.a', 'a.'];
  const paths: string[] = ['/'];
  for (const x of steps) for (const y of steps) for (const z of ['', ...steps]) paths.push(`/${x}/${y}${z ? `/${z}` : ''}`);
  let compared = 0;
  for (const inner of paths) {
    for (const outer of paths) {
      assert.equal(isWithin(inner, outer), byRelative(inner, outer), `${inner} within ${outer}`);
      compared++;
    }
  }
  assert.ok(compared > 100_000);
});
