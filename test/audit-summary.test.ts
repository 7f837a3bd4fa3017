import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AuditRow } from '../src/audit/index.js';
import { describeEvent } from '../src/audit/summary.js';
import { parseSince } from '../src/audit/since.js';

function row(type: AuditRow['type'], data: Record<string, unknown>): AuditRow {
  return { id: 1, ts: 0, type, agent: 'a', data, prevHash: '0'.repeat(64), hash: '1'.repeat(64) };
}

test('a spawn is summarised as its command, workspace, branch, backend and env count, quoting odd arguments', () => {
  const line = describeEvent(row('spawn', { command: ['claude', '-p', 'fix the bug'], workspace: '/w/a', branch: 'agent/a', backend: 'landlock', env: ['HOME', 'PATH'] }));
  assert.equal(line, 'claude -p "fix the bug" in /w/a branch agent/a via landlock 2 env vars');
});

test('exits, restarts, kills, losses and prunes read as sentences', () => {
  assert.equal(describeEvent(row('exit', { code: 2, signal: null, durationMs: 61_000 })), 'code 2 after 61.0s');
  assert.equal(describeEvent(row('exit', { code: null, signal: 'SIGKILL', durationMs: 5 })), 'signal SIGKILL after 5ms');
  assert.equal(describeEvent(row('restart', { reason: 'exit 1', attempt: 3, delayMs: 4000 })), 'attempt 3 (exit 1) after 4.0s');
  assert.equal(describeEvent(row('kill', { signal: 'SIGTERM', by: 'ctl' })), 'signal SIGTERM by ctl');
  assert.equal(describeEvent(row('loss', { dropped: 7, reason: 'SQLITE_FULL: database or disk is full' })), '7 events dropped: SQLITE_FULL: database or disk is full');
  assert.match(describeEvent(row('prune', { fromId: 1, toId: 9, count: 9, cutoff: 0 })), /^removed 9 rows \(#1\.\.#9\) older than 1970-01-01T00:00:00\.000Z$/);
});

test('unknown data falls back to compact JSON, and long summaries are cut with an ellipsis', () => {
  assert.equal(describeEvent(row('denial', {})), '');
  assert.equal(describeEvent(row('attach', { other: 1 })), '{"other":1}');
  const long = describeEvent(row('spawn', { command: ['x'.repeat(500)] }));
  assert.equal(long.length, 160);
  assert.ok(long.endsWith('…'));
});

test('--since accepts spans and ISO dates, and nothing else', () => {
  const now = Date.UTC(2026, 10, 25, 12);
  assert.equal(parseSince('30m', now), now - 30 * 60_000);
  assert.equal(parseSince('24h', now), now - 24 * 3_600_000);
  assert.equal(parseSince('7d', now), now - 7 * 86_400_000);
  assert.equal(parseSince('2w', now), now - 14 * 86_400_000);
  assert.equal(parseSince('2026-11-20', now), Date.UTC(2026, 10, 20));
  assert.equal(parseSince('2026-11-20T14:00:00Z', now), Date.UTC(2026, 10, 20, 14));
  for (const bad of ['yesterday', '7', 'd7', '-3d', '2026-13-45', '']) assert.equal(parseSince(bad, now), undefined, bad);
});
