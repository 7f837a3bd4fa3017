import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, linkSync, mkdirSync, realpathSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { allEnforced, allGaps } from '../src/backends/backend.js';
import type { Capabilities } from '../src/backends/backend.js';
import { diffSnapshots, takeSnapshot, type Watch } from '../conformance/snapshot.js';
import { promiseFor, statusOf, worst } from '../conformance/verdict.js';
import { matchesGlob } from '../conformance/runner.js';
import type { Case } from '../conformance/case.js';
import { scratchDir } from './support/scratch-dir.js';

function tree() {
  const root = realpathSync(scratchDir('celistra-judge-'));
  mkdirSync(join(root, 'dir'));
  writeFileSync(join(root, 'dir', 'file.txt'), 'original\n');
  const watches: Watch[] = [{ path: root, recursive: true }];
  return { root, file: join(root, 'dir', 'file.txt'), watches, done: () => rmSync(root, { recursive: true, force: true }) };
}

function changesAfter(mutate: (t: ReturnType<typeof tree>) => void): string[] {
  const t = tree();
  try {
    const before = takeSnapshot(t.watches);
    mutate(t);
    return diffSnapshots(before, takeSnapshot(t.watches));
  } finally {
    t.done();
  }
}

test('an unchanged tree gives no difference', () => {
  assert.deepEqual(changesAfter(() => undefined), []);
});

test('a content change with the size and mtime put back is still caught (hash and ctime)', () => {
  const lines = changesAfter((t) => {
    writeFileSync(t.file, 'tampered\n');
    utimesSync(t.file, 0, 0);
  });
  assert.ok(lines.some((l) => l.includes('file.txt') && l.includes('hash')), lines.join('\n'));
});

test('a mode change is caught', () => {
  const lines = changesAfter((t) => chmodSync(t.file, 0o777));
  assert.ok(lines.some((l) => l.includes('file.txt') && l.includes('mode')), lines.join('\n'));
});

test('a touch -d style time change is caught', () => {
  const lines = changesAfter((t) => utimesSync(t.file, 1, 1));
  assert.ok(lines.some((l) => l.includes('mtimeNs')), lines.join('\n'));
});

test('a new hard link to a protected file is caught through its link count', () => {
  const outside = realpathSync(scratchDir('celistra-judge-out-'));
  try {
    const lines = changesAfter((t) => linkSync(t.file, join(outside, 'stolen')));
    assert.ok(lines.some((l) => l.includes('file.txt') && l.includes('nlink')), lines.join('\n'));
  } finally {
    rmSync(outside, { recursive: true, force: true });
  }
});

test('an added and a removed entry are caught, and the directory listing changes', () => {
  const lines = changesAfter((t) => {
    writeFileSync(join(t.root, 'dir', 'new'), 'x');
    rmSync(t.file);
  });
  assert.ok(lines.some((l) => l.startsWith('added') && l.endsWith('new')));
  assert.ok(lines.some((l) => l.startsWith('removed') && l.endsWith('file.txt')));
  assert.ok(lines.some((l) => l.includes('names')));
});

test('a change filter can accept the agent\'s own paths and nothing else', () => {
  const t = tree();
  try {
    const before = takeSnapshot(t.watches);
    writeFileSync(join(t.root, 'dir', 'mine'), 'x');
    writeFileSync(t.file, 'changed');
    const lines = diffSnapshots(before, takeSnapshot(t.watches), (p) => p.endsWith('mine') || p.endsWith('dir'));
    assert.deepEqual(lines.map((l) => l.split(' ')[0]), ['changed']);
    assert.ok(lines[0]!.includes('file.txt'));
  } finally {
    t.done();
  }
});

function caps(g: Capabilities['guarantees']): Capabilities {
  return { backend: 'none', available: true, details: {}, guarantees: g };
}

test('an enforced guarantee expects denial: an escape is ESCAPED, a hold is held', () => {
  const p = promiseFor('content-writes', caps(allEnforced()));
  assert.deepEqual(p, { mode: 'deny' });
  assert.equal(statusOf(p, 'escaped'), 'ESCAPED');
  assert.equal(statusOf(p, 'held'), 'held');
});

test('a declared gap reports gap with its reason, and gap-held when it held anyway', () => {
  const p = promiseFor('signals', caps(allGaps('no scoping here')));
  assert.deepEqual(p, { mode: 'gap', reason: 'no scoping here' });
  assert.equal(statusOf(p, 'escaped'), 'gap');
  assert.equal(statusOf(p, 'held'), 'gap-held');
});

test('allowed work that fails is a FALSE-DENY, and allowed work that touches the outside is ESCAPED', () => {
  const p = promiseFor('allow', caps(allGaps('x')));
  assert.equal(statusOf(p, 'worked'), 'held');
  assert.equal(statusOf(p, 'denied'), 'FALSE-DENY');
  assert.equal(statusOf(p, 'escaped'), 'ESCAPED');
});

test('supervisor properties are expected to hold whatever the backend declares', () => {
  assert.deepEqual(promiseFor('supervisor', caps(allGaps('no sandbox'))), { mode: 'deny' });
});

test('a skipped hazardous attempt is never silently clean where denial was promised', () => {
  assert.equal(statusOf({ mode: 'deny' }, 'skipped'), 'ERROR');
  assert.equal(statusOf({ mode: 'gap', reason: 'r' }, 'skipped'), 'gap');
});

test('a case takes its worst attempt status', () => {
  assert.equal(worst(['held', 'gap', 'ESCAPED']), 'ESCAPED');
  assert.equal(worst(['held', 'gap-held', 'gap']), 'gap');
  assert.equal(worst(['held', 'FALSE-DENY']), 'FALSE-DENY');
  assert.equal(worst(['held']), 'held');
});

test('--case globs match ids or titles, comma-separated', () => {
  const c = { id: '08', title: 'symlinks in wt-a', section: 'B', expect: 'content-writes' } as Case;
  assert.ok(matchesGlob(c, '0?'));
  assert.ok(matchesGlob(c, '1*,08'));
  assert.ok(matchesGlob(c, '*symlink*'));
  assert.ok(!matchesGlob(c, '1*'));
});
