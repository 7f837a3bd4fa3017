/**
 * A scripted model behind the OpenAI Responses API, for driving the real `codex` binary
 * through a whole agent loop offline. The scenario is data: a list of assistant turns,
 * each text and/or tool calls. The server is stateless about the conversation: each
 * request carries the whole history, and the turn to answer is the number of scripted
 * turns whose calls already appear in it (their call ids say which turn made them). So a
 * retried request gets the same answer, and what codex sent back for each call (the
 * output of a failed command, say) is read from the requests, which are all recorded.
 *
 * What Codex 0.169 sends and needs, found by logging it (docs/presets.md, codex part):
 * only `POST <base_url>/responses`, with `"stream": true`, the history in `input` (the
 * developer and user messages, then each earlier `function_call` / `custom_tool_call` and
 * its `function_call_output` / `custom_tool_call_output`), and `tools`. It reads the
 * answer as server-sent events and acts on `response.output_item.done` items and
 * `response.completed`; a turn whose output holds no tool call ends its task. The TUI
 * also sends side requests (a title for the task) asking for structured output
 * (`text.format.type = "json_schema"`): those are answered apart, and are no turn.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A tool call the scripted model makes. `id` names it in the test; the call id sent is derived from it. */
export type ScriptedCall =
  /** A JSON function tool (Codex 0.169: `exec_command`, `write_stdin`, ...). */
  | { id: string; kind: 'function'; name: string; arguments: Record<string, unknown> }
  /** A freeform tool (Codex 0.169: `apply_patch`, when the model's metadata asks for it). */
  | { id: string; kind: 'custom'; name: string; input: string };

export interface ScriptedTurn {
  /** Assistant text, sent before the calls. */
  text?: string;
  /** Tool calls; a turn without any ends the agent's task. */
  calls?: ScriptedCall[];
}

/** Codex's shell tool: runs `cmd` through the user's shell (in `workdir`, default the session's cwd). */
export function execCommand(id: string, cmd: string, opts: { workdir?: string } = {}): ScriptedCall {
  return { id, kind: 'function', name: 'exec_command', arguments: { cmd, ...opts, login: false, yield_time_ms: 30_000 } };
}

/** Codex's file editing tool, in its patch language (`*** Begin Patch` ... `*** End Patch`). */
export function applyPatch(id: string, patch: string): ScriptedCall {
  return { id, kind: 'custom', name: 'apply_patch', input: patch };
}

export interface RecordedRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  /** The parsed JSON body, or undefined when there was none or it was not JSON. */
  body: unknown;
  /** The scenario turn this request was answered with; undefined when not a responses call, or a side request. */
  turn?: number;
  /** A side request (structured output, e.g. the TUI's task title), answered apart from the scenario. */
  side?: boolean;
}

export interface ScriptedResponses {
  /** The provider base URL for codex (`.../v1`). */
  baseUrl: string;
  /** Every request received, in order. */
  requests: RecordedRequest[];
  /** The requests that played a turn of the scenario (side requests left out), in order. */
  turnRequests(): RecordedRequest[];
  /**
   * What codex reported back to the model for the call named `id` (the text of its
   * `function_call_output` / `custom_tool_call_output`), from the first request holding it;
   * undefined while no request has.
   */
  toolOutput(id: string): string | undefined;
  /** Index (into turnRequests()) of the first request that carries the output of call `id`. */
  requestWithOutput(id: string): number;
  close(): Promise<void>;
}

const CALL_ID = /^scripted-(\d+)-/;

/** The call id sent for call `id` of turn `turn`: the turn is read back from it (see the file comment). */
function callId(turn: number, id: string): string {
  return `scripted-${turn}-${id}`;
}

/** Whether `call_id` is the one sent for the scenario's call named `id` (in whichever turn). */
function isCallNamed(call_id: string | undefined, id: string): boolean {
  const m = CALL_ID.exec(call_id ?? '');
  return m !== null && call_id!.slice(m[0].length) === id;
}

interface InputItem {
  type?: string;
  call_id?: string;
  output?: unknown;
}

function inputItems(body: unknown): InputItem[] {
  const input = (body as { input?: unknown } | undefined)?.input;
  return Array.isArray(input) ? (input as InputItem[]) : [];
}

/** The next turn to play: one past the last scripted turn whose calls are already in the history. */
function turnFor(body: unknown): number {
  let next = 0;
  for (const item of inputItems(body)) {
    if (item.type !== 'function_call' && item.type !== 'custom_tool_call') continue;
    const m = CALL_ID.exec(item.call_id ?? '');
    if (m) next = Math.max(next, Number(m[1]) + 1);
  }
  return next;
}

/** The text of a tool output item (a string, or a list of content parts). */
function outputText(output: unknown): string {
  if (typeof output === 'string') return output;
  if (Array.isArray(output)) return output.map((p) => (typeof p === 'object' && p && 'text' in p ? String((p as { text: unknown }).text) : '')).join('');
  return JSON.stringify(output);
}

function outputItems(turn: ScriptedTurn | undefined, turnIndex: number): Record<string, unknown>[] {
  if (!turn) {
    // Past the end of the scenario: say so in the transcript, and call no tool, which ends the task.
    return [message(turnIndex, `scripted model: the scenario has no turn ${turnIndex}`)];
  }
  const items: Record<string, unknown>[] = [];
  if (turn.text !== undefined) items.push(message(turnIndex, turn.text));
  for (const call of turn.calls ?? []) {
    const call_id = callId(turnIndex, call.id);
    items.push(
      call.kind === 'function'
        ? { type: 'function_call', id: `fc_${call_id}`, call_id, name: call.name, arguments: JSON.stringify(call.arguments), status: 'completed' }
        : { type: 'custom_tool_call', id: `ctc_${call_id}`, call_id, name: call.name, input: call.input, status: 'completed' },
    );
  }
  return items;
}

function message(turnIndex: number, text: string): Record<string, unknown> {
  return { type: 'message', id: `msg_scripted_${turnIndex}`, role: 'assistant', status: 'completed', content: [{ type: 'output_text', text, annotations: [] }] };
}

/** The JSON schema a side request asks its answer to follow, or undefined for a turn of the task. */
function structuredOutputSchema(body: unknown): { required?: string[]; properties?: Record<string, { type?: string }> } | undefined {
  const format = (body as { text?: { format?: { type?: string; schema?: unknown } } } | undefined)?.text?.format;
  return format?.type === 'json_schema' ? ((format.schema ?? {}) as { required?: string[]; properties?: Record<string, { type?: string }> }) : undefined;
}

/** An answer that fits the schema: each required string property says what answered it. */
function sideAnswer(schema: { required?: string[]; properties?: Record<string, { type?: string }> }): string {
  const answer: Record<string, string> = {};
  for (const key of schema.required ?? []) if (schema.properties?.[key]?.type === 'string') answer[key] = 'Scripted task';
  return JSON.stringify(answer);
}

/** Streams one response as Responses API server-sent events. */
function streamResponse(res: ServerResponse, model: string, turnIndex: number, items: Record<string, unknown>[]): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  let seq = 0;
  const send = (event: Record<string, unknown>): void => {
    res.write(`event: ${String(event.type)}\ndata: ${JSON.stringify({ ...event, sequence_number: seq++ })}\n\n`);
  };
  const response = { id: `resp_scripted_${turnIndex}`, object: 'response', created_at: Math.floor(Date.now() / 1000), model };
  send({ type: 'response.created', response: { ...response, status: 'in_progress', output: [] } });
  items.forEach((item, output_index) => {
    send({ type: 'response.output_item.added', output_index, item: item.type === 'message' ? { ...item, status: 'in_progress', content: [] } : item });
    if (item.type === 'message') {
      const text = ((item.content as { text: string }[])[0] ?? { text: '' }).text;
      send({ type: 'response.output_text.delta', item_id: item.id, output_index, content_index: 0, delta: text });
    }
    send({ type: 'response.output_item.done', output_index, item });
  });
  send({
    type: 'response.completed',
    response: {
      ...response,
      status: 'completed',
      output: items,
      usage: { input_tokens: 1, input_tokens_details: { cached_tokens: 0 }, output_tokens: 1, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 2 },
    },
  });
  res.end();
}

/** Starts the server on 127.0.0.1 (a free port). Close it when done. */
export async function startScriptedResponses(scenario: ScriptedTurn[]): Promise<ScriptedResponses> {
  const requests: RecordedRequest[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      let body: unknown;
      try {
        body = raw ? JSON.parse(raw) : undefined;
      } catch {
        body = undefined;
      }
      const path = (req.url ?? '/').split('?')[0]!;
      const recorded: RecordedRequest = { method: req.method ?? '', path, headers: req.headers, body };
      requests.push(recorded);
      if (req.method === 'POST' && path.endsWith('/responses')) {
        const model = String((body as { model?: unknown } | undefined)?.model ?? 'scripted');
        const schema = structuredOutputSchema(body);
        if (schema) {
          recorded.side = true;
          streamResponse(res, model, -1, [message(-1, sideAnswer(schema))]);
          return;
        }
        const turnIndex = turnFor(body);
        recorded.turn = turnIndex;
        streamResponse(res, model, turnIndex, outputItems(scenario[turnIndex], turnIndex));
        return;
      }
      // Nothing else is needed by Codex 0.169; answered like the API answers an unknown route.
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: `scripted model: no route ${req.method} ${path}`, type: 'invalid_request_error' } }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  const turnRequests = (): RecordedRequest[] => requests.filter((r) => r.turn !== undefined);
  const outputOf = (r: RecordedRequest, id: string): InputItem | undefined =>
    inputItems(r.body).find((i) => (i.type === 'function_call_output' || i.type === 'custom_tool_call_output') && isCallNamed(i.call_id, id));
  const requestWithOutput = (id: string): number => turnRequests().findIndex((r) => outputOf(r, id) !== undefined);
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    requests,
    turnRequests,
    requestWithOutput,
    toolOutput(id: string): string | undefined {
      const at = requestWithOutput(id);
      if (at < 0) return undefined;
      return outputText(outputOf(turnRequests()[at]!, id)!.output);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
