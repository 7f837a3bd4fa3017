/**
 * The scripted Anthropic model (test/support/scripted-anthropic.ts) that the real-agent
 * tests drive Claude Code with: its reply rules, and the proof that the real `claude`
 * binary runs a whole tool loop against it, unfenced (the fenced runs are in
 * test/sandbox/agent-loop-claude*.test.ts).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startScriptedAnthropic, toolUseId, type ScriptedAnthropic } from './support/scripted-anthropic.js';
import { CLAUDE_BIN, claudeAvailable, claudeEnv, claudePrintArgs, withoutAnthropicEnv } from './support/claude-launch.js';
import { runAsync } from './support/run-async.js';
import { scratchDir } from './support/scratch-dir.js';

async function post(model: ScriptedAnthropic, body: object): Promise<{ status: number; json: any }> {
  const res = await fetch(`${model.url}/v1/messages?beta=true`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, json: await res.json() };
}

const TOOLS = [{ name: 'Bash' }];

describe('the scripted model', () => {
  let model: ScriptedAnthropic;
  before(async () => {
    model = await startScriptedAnthropic({
      turns: [{ text: 'first', tools: [{ name: 'Bash', input: { command: 'true' } }] }, { text: 'second' }],
      finalText: 'all done',
      sideText: 'A title',
    });
  });
  after(() => model.close());

  test('plays the turn whose index is the number of assistant messages in the request, system entries included', async () => {
    const first = await post(model, { model: 'm', tools: TOOLS, messages: [{ role: 'user', content: 'go' }, { role: 'system', content: 'note' }] });
    assert.equal(first.status, 200);
    assert.deepEqual(first.json.content, [{ type: 'text', text: 'first' }, { type: 'tool_use', id: toolUseId(0, 0), name: 'Bash', input: { command: 'true' } }]);
    assert.equal(first.json.stop_reason, 'tool_use');
    const second = await post(model, {
      tools: TOOLS,
      messages: [
        { role: 'user', content: 'go' },
        { role: 'assistant', content: first.json.content },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: toolUseId(0, 0), content: 'boom', is_error: true }] },
      ],
    });
    assert.deepEqual(second.json.content, [{ type: 'text', text: 'second' }]);
    assert.equal(second.json.stop_reason, 'end_turn');
    assert.deepEqual(model.toolResult(toolUseId(0, 0)), { toolUseId: toolUseId(0, 0), isError: true, text: 'boom' });
  });

  test('ends with the final text once every turn was played', async () => {
    const r = await post(model, { tools: TOOLS, messages: [{ role: 'assistant', content: 'a' }, { role: 'assistant', content: 'b' }, { role: 'user', content: 'c' }] });
    assert.deepEqual(r.json.content, [{ type: 'text', text: 'all done' }]);
    assert.equal(r.json.stop_reason, 'end_turn');
  });

  test('answers a request without tools as a side request, outside the loop', async () => {
    const before = model.agentRequests().length;
    const r = await post(model, { messages: [{ role: 'user', content: 'title this' }] });
    assert.deepEqual(r.json.content, [{ type: 'text', text: 'A title' }]);
    assert.equal(model.agentRequests().length, before);
  });

  test('streams the reply as server-sent events when asked', async () => {
    const res = await fetch(`${model.url}/v1/messages`, { method: 'POST', body: JSON.stringify({ stream: true, tools: TOOLS, messages: [{ role: 'user', content: 'go' }] }) });
    assert.match(res.headers.get('content-type') ?? '', /text\/event-stream/);
    const events = (await res.text()).split('\n').filter((l) => l.startsWith('event: ')).map((l) => l.slice(7));
    assert.deepEqual(events, ['message_start', 'content_block_start', 'content_block_delta', 'content_block_stop', 'content_block_start', 'content_block_delta', 'content_block_stop', 'message_delta', 'message_stop']);
  });

  test('refuses an unknown endpoint with a 404 error naming it', async () => {
    const res = await fetch(`${model.url}/v1/complete`, { method: 'POST', body: '{}' });
    assert.equal(res.status, 404);
    assert.match(((await res.json()) as any).error.message, /POST \/v1\/complete/);
  });
});

describe('the real claude against the scripted model, unfenced', { skip: claudeAvailable() ?? false }, () => {
  test('runs a whole loop: Read, Edit, Write and Bash take effect on disk and their results reach the model', async () => {
    const root = scratchDir('celistra-scripted-', '/var/tmp');
    const ws = join(root, 'ws');
    const home = join(root, 'home');
    mkdirSync(ws);
    mkdirSync(home);
    writeFileSync(join(ws, 'greeting.txt'), 'hello\n');
    const model = await startScriptedAnthropic({
      turns: [
        { text: 'Reading it first.', tools: [{ name: 'Read', input: { file_path: join(ws, 'greeting.txt') } }] },
        { tools: [{ name: 'Edit', input: { file_path: join(ws, 'greeting.txt'), old_string: 'hello', new_string: 'goodbye' } }] },
        { tools: [{ name: 'Write', input: { file_path: join(ws, 'new.txt'), content: 'written\n' } }] },
        { tools: [{ name: 'Bash', input: { command: 'node -e "console.log(6*7)" > answer.txt && cat greeting.txt', description: 'compute' } }] },
      ],
      finalText: 'Task complete.',
    });
    try {
      const r = await runAsync(CLAUDE_BIN, claudePrintArgs('Do the scripted task.', { allowedTools: ['Read', 'Edit', 'Write', 'Bash'] }), {
        cwd: ws,
        env: { ...withoutAnthropicEnv(process.env), HOME: home, ...claudeEnv(model.url) },
      });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout.trim(), 'Task complete.');
      assert.equal(readFileSync(join(ws, 'greeting.txt'), 'utf8'), 'goodbye\n');
      assert.equal(readFileSync(join(ws, 'new.txt'), 'utf8'), 'written\n');
      assert.equal(readFileSync(join(ws, 'answer.txt'), 'utf8'), '42\n');
      const results = model.toolResults();
      assert.deepEqual(results.map((t) => [t.toolUseId, t.isError]), [0, 1, 2, 3].map((i) => [toolUseId(i, 0), false]));
      assert.match(results[0]!.text, /hello/);
      assert.equal(results[3]!.text.trim(), 'goodbye');
      assert.equal(model.agentRequests().length, 5, 'four tool turns, then the final answer');
      assert.equal(model.requests.find((q) => q.method === 'POST')?.headers['x-api-key'], claudeEnv(model.url).ANTHROPIC_API_KEY);
    } finally {
      await model.close();
    }
  });
});
