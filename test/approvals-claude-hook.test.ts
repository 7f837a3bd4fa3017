import { test } from 'node:test';
import assert from 'node:assert/strict';
import { allowedByClaude, allowedToolsArgs } from '../src/approvals/claude-allowed.js';
import { claudePreToolUse } from '../src/approvals/claude-hook.js';

test("claude's --allowedTools are read in every spelling Claude takes, and end at the next flag", () => {
  assert.deepEqual(allowedToolsArgs(['node', 'claude', '--print', '--allowedTools', 'Bash(git commit:*)', 'Read,Edit', '--', 'do it']), ['Bash(git commit:*)', 'Read', 'Edit']);
  assert.deepEqual(allowedToolsArgs(['claude', '--allowed-tools=Bash(npm test) Write']), ['Bash(npm test)', 'Write']);
  assert.deepEqual(allowedToolsArgs(['claude', '--print', 'x']), []);
});

test("a call Claude's own rules allow needs no person; another does", () => {
  const rules = ['Bash(git commit:*)', 'Edit'];
  assert.equal(allowedByClaude(rules, 'Bash', 'git commit -m x'), true);
  assert.equal(allowedByClaude(rules, 'Edit', '/w/a.ts'), true);
  assert.equal(allowedByClaude(rules, 'Bash', 'git push'), false);
});

test('without an approval channel, or for a read-only tool, or with skipped permissions, the hook decides nothing', async () => {
  const call = (tool: string, mode = 'default') => JSON.stringify({ hook_event_name: 'PreToolUse', tool_name: tool, tool_input: { command: 'git push' }, permission_mode: mode });
  assert.equal(await claudePreToolUse(call('Bash'), {}), '');
  assert.equal(await claudePreToolUse(call('Read'), { CELISTRA_APPROVALS: '/nonexistent' }), '');
  assert.equal(await claudePreToolUse(call('Bash', 'bypassPermissions'), { CELISTRA_APPROVALS: '/nonexistent' }), '');
  assert.equal(await claudePreToolUse('not json', { CELISTRA_APPROVALS: '/nonexistent' }), '');
});
