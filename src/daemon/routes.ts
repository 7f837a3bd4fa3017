import type { IncomingMessage, ServerResponse } from 'node:http';
import { CelistraError } from '../policy/errors.js';
import type { AuditLog } from '../audit/index.js';
import type { Supervisor } from './supervisor.js';
import { parseEventsQuery, toAuditQuery } from './events-query.js';
import { HttpError, sendError, sendJson } from './http-error.js';
import type { ApprovalQueue } from '../approvals/queue.js';
import { routeApprovals } from './approval-routes.js';
import { routeTask, type TaskWork } from './task-routes.js';
import { GitWorkerPool } from './git-worker-pool.js';
import type { AgentSummary } from './agent-spec.js';

/** Request bodies are small JSON documents; anything bigger is refused, not buffered. */
export const MAX_BODY_BYTES = 1024 * 1024;

export interface DaemonInfo {
  version: string;
  pid: number;
  startedAt: number;
  socketPath: string;
  scrollbackBytes: number;
}

/** A refused body is read and dropped up to this size, so the client gets its 413. */
const DISCARD_LIMIT_BYTES = 64 * 1024 * 1024;

/**
 * Read a refused body to its end and drop it before answering: Node closes the connection
 * once the answer is written, and a client still sending then fails with EPIPE instead of
 * reading its 413 (seen under load). A body declared beyond DISCARD_LIMIT_BYTES is not
 * worth reading: that client is answered at once and may see its connection cut.
 */
function discardBody(req: IncomingMessage, declared: number): Promise<void> {
  if (declared > DISCARD_LIMIT_BYTES) return Promise.resolve();
  return new Promise((resolve) => {
    req.on('data', () => undefined);
    req.once('end', resolve);
    req.once('error', () => resolve());
    req.once('close', resolve);
  });
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > MAX_BODY_BYTES) {
    await discardBody(req, declared);
    throw new HttpError(413, 'E_USAGE', `request body of ${declared} bytes exceeds the ${MAX_BODY_BYTES}-byte limit`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, 'E_USAGE', `request body exceeds the ${MAX_BODY_BYTES}-byte limit`);
    chunks.push(chunk as Buffer);
  }
  if (size === 0) return {};
  let body: unknown;
  try {
    body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch (e) {
    throw new HttpError(400, 'E_USAGE', `malformed JSON body: ${(e as Error).message}`);
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new HttpError(400, 'E_USAGE', 'the request body must be a JSON object');
  return body as Record<string, unknown>;
}

function optionalString(body: Record<string, unknown>, key: string): string | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new HttpError(400, 'E_USAGE', `"${key}" must be a string`);
  return v;
}

function optionalNumber(body: Record<string, unknown>, key: string): number | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new HttpError(400, 'E_USAGE', `"${key}" must be a number`);
  return v;
}

function decodePathPart(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new HttpError(400, 'E_USAGE', `malformed percent-encoding in the path: "${part.slice(0, 64)}"`);
  }
}

/** Routes of the /v1 API (docs/api.md). Every failure becomes a 4xx/5xx with a message. */
export function createRouter(supervisor: Supervisor, info: DaemonInfo, audit: Pick<AuditLog, 'query'>, approvals?: ApprovalQueue, requestStop?: (withAgents: boolean) => Promise<void>, tasks: TaskWork = { pool: new GitWorkerPool({ size: 1 }) }) {
  /** An agent with its task's diff stat, when the daemon keeps them (docs/api.md). */
  const withStat = (a: AgentSummary): AgentSummary => (tasks.diffStats ? { ...a, diffStat: tasks.diffStats.get(a.name) } : a);
  return async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const url = new URL(req.url ?? '/', 'http://celistra');
      const parts = url.pathname.split('/').filter(Boolean).map(decodePathPart);
      const method = req.method ?? 'GET';
      if (parts[0] !== 'v1') throw new HttpError(404, 'E_NOT_FOUND', `no such endpoint ${url.pathname}; the API lives under /v1/`);
      const [, collection, name, action, ...rest] = parts;
      const allow = (...methods: string[]) => {
        if (!methods.includes(method)) throw new HttpError(405, 'E_USAGE', `${method} is not allowed on ${url.pathname} (allowed: ${methods.join(', ')})`);
      };

      if (collection === 'status' && name === undefined) {
        allow('GET');
        return sendJson(res, 200, { ...info, uptimeMs: Date.now() - info.startedAt, agents: supervisor.list().length });
      }
      if (collection === 'shutdown' && name === undefined) {
        allow('POST');
        if (!requestStop) throw new HttpError(501, 'E_DAEMON', 'this daemon cannot be stopped through the API');
        const body = await readJson(req);
        // Answered once the agents are ended, so the caller knows they are.
        await requestStop(body.agents === true);
        return sendJson(res, 200, { stopping: true, agents: supervisor.list().filter((a) => a.state === 'running').length });
      }
      if (collection === 'events' && action === undefined) {
        if (name === 'stream') throw new HttpError(426, 'E_USAGE', 'the event stream is a WebSocket endpoint: send an Upgrade request');
        if (name !== undefined) throw new HttpError(404, 'E_NOT_FOUND', `no such endpoint ${url.pathname}`);
        allow('GET');
        const query = parseEventsQuery(url.searchParams, Date.now());
        return sendJson(res, 200, { events: audit.query(toAuditQuery(query)) });
      }
      if (collection === 'approvals' && approvals) return await routeApprovals(approvals, req, res, url, parts.slice(2), () => readJson(req));
      if (collection !== 'agents' || rest.length > 0) throw new HttpError(404, 'E_NOT_FOUND', `no such endpoint ${url.pathname}`);

      if (name === undefined) {
        allow('GET', 'POST');
        if (method === 'GET') return sendJson(res, 200, { agents: supervisor.list().map(withStat) });
        const body = await readJson(req);
        const argv = body.argv;
        if (!Array.isArray(argv) || !argv.every((a) => typeof a === 'string')) throw new HttpError(400, 'E_USAGE', '"argv" must be an array of strings');
        const network = optionalString(body, 'network');
        const agent = await supervisor.spawn({
          name: optionalString(body, 'name'),
          argv: argv as string[],
          workspace: optionalString(body, 'workspace'),
          backend: optionalString(body, 'backend'),
          preset: optionalString(body, 'preset'),
          worktree: optionalString(body, 'worktree'),
          repo: optionalString(body, 'repo'),
          autoRestart: body.autoRestart === true,
          network: network as 'on' | 'off' | undefined,
          unixSockets: optionalString(body, 'unixSockets') as 'deny' | 'allow' | undefined,
          allowWrite: body.allowWrite as string[] | undefined,
          denyRead: body.denyRead as string[] | undefined,
          allowRead: body.allowRead as string[] | undefined,
          approvals: body.approvals,
          env: body.env as Record<string, string> | undefined,
          cols: optionalNumber(body, 'cols'),
          rows: optionalNumber(body, 'rows'),
          terminalAllow: body.terminalAllow,
          maxProcs: body.maxProcs,
          memory: body.memory,
          cpu: body.cpu,
        });
        return sendJson(res, 201, { agent });
      }

      if (action === undefined) {
        // An agent may be named "stream": only without one is this the fleet stream's address.
        if (name === 'stream' && !supervisor.has(name)) throw new HttpError(426, 'E_USAGE', 'the fleet stream is a WebSocket endpoint: send an Upgrade request');
        allow('GET', 'DELETE');
        if (method === 'GET') return sendJson(res, 200, { agent: withStat(supervisor.describe(name)) });
        supervisor.remove(name);
        tasks.diffStats?.forget(name);
        return sendJson(res, 200, { removed: name });
      }
      if (await routeTask(supervisor, tasks, req, res, name, action, () => readJson(req))) return;
      switch (action) {
        case 'kill': {
          allow('POST');
          const body = await readJson(req);
          return sendJson(res, 200, { agent: supervisor.kill(name, optionalString(body, 'signal') ?? 'TERM') });
        }
        case 'restart':
          allow('POST');
          await readJson(req);
          return sendJson(res, 200, { agent: await supervisor.restart(name) });
        case 'input': {
          allow('POST');
          const body = await readJson(req);
          const data = optionalString(body, 'data');
          if (data === undefined) throw new HttpError(400, 'E_USAGE', '"data" (the text to type) is required');
          supervisor.input(name, Buffer.from(data, 'utf8'));
          return sendJson(res, 200, { sent: Buffer.byteLength(data) });
        }
        case 'logs': {
          allow('GET');
          const raw = url.searchParams.get('bytes');
          let bytes: number | undefined;
          if (raw !== null) {
            bytes = Number(raw);
            if (!Number.isInteger(bytes) || bytes < 0) throw new HttpError(400, 'E_USAGE', `bytes must be a non-negative integer, not "${raw}"`);
          }
          const out = await supervisor.logs(name, bytes);
          res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': out.length });
          res.end(out);
          return;
        }
        case 'attach':
          throw new HttpError(426, 'E_USAGE', 'attach is a WebSocket endpoint: send an Upgrade request');
        default:
          throw new CelistraError('E_NOT_FOUND', `no such endpoint ${url.pathname}`);
      }
    } catch (e) {
      sendError(res, e);
    }
  };
}
