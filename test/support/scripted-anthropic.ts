/**
 * A scripted Anthropic model: a small HTTP server on 127.0.0.1 that speaks enough of the
 * Messages API for the real Claude Code CLI (2.1.x) to run a whole agent loop offline.
 * The model's side of the conversation is data (a Scenario); what the agent sent back
 * (tool results, errors) is recorded for the test to check.
 *
 * Stable API (other tests import it; keep it):
 *
 *   import { startScriptedAnthropic, type Scenario } from '../support/scripted-anthropic.js';
 *   const model = await startScriptedAnthropic({ turns: [
 *     { text: 'Reading it.', tools: [{ name: 'Read', input: { file_path: '/abs/file' } }] },
 *     { tools: [{ name: 'Bash', input: { command: 'make test' } }] },
 *   ], finalText: 'Done.' });
 *   model.url            // 'http://127.0.0.1:PORT', for ANTHROPIC_BASE_URL (see claude-launch.ts)
 *   model.requests       // every request, in order: { method, path, headers, body }
 *   model.agentRequests()// the loop's requests (those that offer tools), in order
 *   model.toolResults()  // every tool_result block the agent sent back, by tool_use id, in order
 *   model.toolResult(id) // one of them; the ids are `toolu_scripted_<turn>_<index>`
 *   await model.close()
 *
 * How a reply is chosen, statelessly: a request that offers tools is the agent loop; the
 * number of assistant messages already in it is the index of the turn to play (the
 * request's `messages` may hold `role: "system"` entries too, so alternation is not
 * assumed). Past the last turn the reply is `finalText` (default "Done.") with
 * `end_turn`, which ends a `--print` run. A request without tools (a title, a summary)
 * is a side request and gets a short text. Replies are streamed as server-sent events
 * when the request asks for it (Claude Code always does), plain JSON otherwise.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A tool call the scripted model makes: Bash, Read, Edit, Write, ... with that tool's input. */
export interface ToolCall {
  name: string;
  input: Record<string, unknown>;
}

/** One assistant turn: some text, then tool calls (run by the agent, answered in the next request). */
export interface Turn {
  text?: string;
  tools?: ToolCall[];
}

export interface Scenario {
  turns: Turn[];
  /** The text of the last reply, once every turn was played (default "Done."). */
  finalText?: string;
  /** The reply to side requests (titles, summaries); default "Scripted task". */
  sideText?: string;
}

export interface RecordedRequest {
  method: string;
  /** Path and query, as sent (`/v1/messages?beta=true`). */
  path: string;
  headers: IncomingMessage['headers'];
  /** The parsed JSON body, or null (HEAD, GET, or a body that is not JSON). */
  body: MessagesRequest | null;
}

/** The part of a Messages API request the server reads. */
export interface MessagesRequest {
  model?: string;
  stream?: boolean;
  system?: unknown;
  tools?: { name: string }[];
  messages?: { role: string; content: string | ContentBlock[] }[];
}

export type ContentBlock =
  | { type: 'text'; text: string }
  | { type: 'tool_use'; id: string; name: string; input: unknown }
  | { type: 'tool_result'; tool_use_id: string; content?: string | { type: string; text?: string }[]; is_error?: boolean }
  | { type: string; [key: string]: unknown };

/** A tool result as the agent reported it: `text` joins its text parts. */
export interface ToolResult {
  toolUseId: string;
  isError: boolean;
  text: string;
}

export interface ScriptedAnthropic {
  url: string;
  requests: RecordedRequest[];
  agentRequests(): RecordedRequest[];
  toolResults(): ToolResult[];
  toolResult(toolUseId: string): ToolResult | undefined;
  close(): Promise<void>;
}

/** The id of the `index`-th tool call of turn `turn` (both from 0), as the agent will see it. */
export function toolUseId(turn: number, index: number): string {
  return `toolu_scripted_${turn}_${index}`;
}

export async function startScriptedAnthropic(scenario: Scenario): Promise<ScriptedAnthropic> {
  const requests: RecordedRequest[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      let body: MessagesRequest | null = null;
      try {
        body = raw ? (JSON.parse(raw) as MessagesRequest) : null;
      } catch {
        body = null;
      }
      requests.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body });
      respond(scenario, req, body, res);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const agentRequests = () => requests.filter((r) => isAgentRequest(r.body));
  const toolResults = () => collectToolResults(agentRequests());
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    agentRequests,
    toolResults,
    toolResult: (id) => toolResults().find((r) => r.toolUseId === id),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function isAgentRequest(body: MessagesRequest | null): boolean {
  return !!body && Array.isArray(body.tools) && body.tools.length > 0;
}

function respond(scenario: Scenario, req: IncomingMessage, body: MessagesRequest | null, res: ServerResponse): void {
  const path = (req.url ?? '').split('?')[0];
  if (req.method === 'HEAD' || req.method === 'GET') {
    res.writeHead(200, { 'content-type': 'application/json' }).end(req.method === 'GET' ? '{}' : undefined);
    return;
  }
  if (req.method === 'POST' && path === '/v1/messages/count_tokens') {
    sendJson(res, 200, { input_tokens: 100 });
    return;
  }
  if (req.method !== 'POST' || path !== '/v1/messages' || !body) {
    sendJson(res, 404, { type: 'error', error: { type: 'not_found_error', message: `scripted model: no ${req.method} ${req.url}` } });
    return;
  }
  const reply = chooseReply(scenario, body);
  const message = {
    id: `msg_scripted_${reply.turn}`,
    type: 'message',
    role: 'assistant',
    model: body.model ?? 'claude-scripted',
    content: reply.blocks,
    stop_reason: reply.stopReason,
    stop_sequence: null,
    usage: { input_tokens: 100, output_tokens: 10 },
  };
  if (body.stream) streamMessage(res, message);
  else sendJson(res, 200, message);
}

interface Reply {
  turn: number;
  blocks: ContentBlock[];
  stopReason: 'tool_use' | 'end_turn';
}

function chooseReply(scenario: Scenario, body: MessagesRequest): Reply {
  if (!isAgentRequest(body)) return { turn: -1, blocks: [{ type: 'text', text: scenario.sideText ?? 'Scripted task' }], stopReason: 'end_turn' };
  const turnIndex = (body.messages ?? []).filter((m) => m.role === 'assistant').length;
  const turn = scenario.turns[turnIndex];
  if (!turn) return { turn: turnIndex, blocks: [{ type: 'text', text: scenario.finalText ?? 'Done.' }], stopReason: 'end_turn' };
  const blocks: ContentBlock[] = [];
  if (turn.text) blocks.push({ type: 'text', text: turn.text });
  (turn.tools ?? []).forEach((t, i) => blocks.push({ type: 'tool_use', id: toolUseId(turnIndex, i), name: t.name, input: t.input }));
  return { turn: turnIndex, blocks, stopReason: turn.tools?.length ? 'tool_use' : 'end_turn' };
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
}

/** The Messages API's event stream: the message's head, each block opened, filled by one delta and closed, then the stop reason. */
function streamMessage(res: ServerResponse, message: { content: ContentBlock[]; stop_reason: string; usage: object } & Record<string, unknown>): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
  const send = (event: string, data: unknown) => res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  send('message_start', { type: 'message_start', message: { ...message, content: [], stop_reason: null, usage: { input_tokens: 100, output_tokens: 1 } } });
  message.content.forEach((block, index) => {
    if (block.type === 'tool_use') {
      const b = block as { id: string; name: string; input: unknown };
      send('content_block_start', { type: 'content_block_start', index, content_block: { type: 'tool_use', id: b.id, name: b.name, input: {} } });
      send('content_block_delta', { type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: JSON.stringify(b.input) } });
    } else {
      send('content_block_start', { type: 'content_block_start', index, content_block: { type: 'text', text: '' } });
      send('content_block_delta', { type: 'content_block_delta', index, delta: { type: 'text_delta', text: (block as { text: string }).text } });
    }
    send('content_block_stop', { type: 'content_block_stop', index });
  });
  send('message_delta', { type: 'message_delta', delta: { stop_reason: message.stop_reason, stop_sequence: null }, usage: { output_tokens: 10 } });
  send('message_stop', { type: 'message_stop' });
  res.end();
}

function collectToolResults(agentRequests: RecordedRequest[]): ToolResult[] {
  const seen = new Map<string, ToolResult>();
  for (const r of agentRequests) {
    for (const m of r.body?.messages ?? []) {
      if (m.role !== 'user' || typeof m.content === 'string') continue;
      for (const block of m.content) {
        if (block.type !== 'tool_result') continue;
        const b = block as Extract<ContentBlock, { type: 'tool_result' }>;
        if (seen.has(b.tool_use_id)) continue;
        const text = typeof b.content === 'string' ? b.content : (b.content ?? []).map((c) => c.text ?? '').join('\n');
        seen.set(b.tool_use_id, { toolUseId: b.tool_use_id, isError: b.is_error === true, text });
      }
    }
  }
  return [...seen.values()];
}
