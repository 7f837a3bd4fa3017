import { test } from 'node:test';
import assert from 'node:assert/strict';
import { splitCommandLine } from '../src/cli/ctl/command-line.js';

test('the single-string command splits on spaces and honours quotes and escapes', () => {
  assert.deepEqual(splitCommandLine(`claude --print "fix the \\"bug\\" now"`), ['claude', '--print', 'fix the "bug" now']);
  assert.deepEqual(splitCommandLine(`  a  'b c'  d\\ e ""`), ['a', 'b c', 'd e', '']);
  assert.deepEqual(splitCommandLine(`echo 'it''s'`), ['echo', 'its']);
  assert.deepEqual(splitCommandLine(`say 'a | b; $HOME'`), ['say', 'a | b; $HOME']);
});

test('shell syntax and broken quoting are refused, not passed on literally', () => {
  for (const bad of ['echo hi | cat', 'a && b', 'echo $HOME', 'ls *.ts', 'x > y', `echo "$(id)"`, `'open`, `"open`, 'trail\\', '   ']) {
    assert.throws(() => splitCommandLine(bad), (e: Error & { code?: string }) => e.code === 'E_USAGE', bad);
  }
});
