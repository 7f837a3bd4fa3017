// The /v1 API as the page uses it: the same endpoints as the CLI, on the dashboard's origin.
import type { ApprovalView } from '../src/approvals/request.js';
import type { TaskDiff } from '../src/daemon/task-diff.js';
import type { DiffStat, DiffStatMessage } from '../src/daemon/diff-stat.js';

export type { DiffStat, DiffStatMessage };

/** The agent object of docs/api.md, the fields the page shows (answers may carry more). */
export interface Agent {
  name: string;
  state: string;
  startedAt: number | null;
  restarts: number;
  workspace: string;
  worktree: string | null;
  branch: string | null;
  backend: string | null;
  unsandboxed: boolean;
  preset: string | null;
  lastExit: { status: number } | null;
  lastLine: string;
  /** Pending approval requests of the running agent, or null. */
  approvals: { count: number; oldestAt: number } | null;
  /** The task's diff stat against its base; null outside a task worktree (absent from an older daemon). */
  diffStat?: DiffStat | null;
}

/** An error answer of the API; `status` 401 means the session is missing or expired. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(path, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: 'same-origin',
  });
  const text = await res.text();
  let parsed: unknown = {};
  try {
    parsed = text ? JSON.parse(text) : {};
  } catch {
    throw new ApiError(res.status, `the daemon answered ${res.status} with a body that is not JSON`);
  }
  if (!res.ok) {
    const err = (parsed as { error?: { message?: string; hint?: string } }).error;
    throw new ApiError(res.status, err?.message ? `${err.message}${err.hint ? ` (${err.hint})` : ''}` : `the daemon answered ${res.status}`);
  }
  return parsed as T;
}

export const listAgents = () => call<{ agents: Agent[] }>('GET', '/v1/agents').then((r) => r.agents);
const agentPath = (name: string) => `/v1/agents/${encodeURIComponent(name)}`;
export const killAgent = (name: string, signal: string) => call('POST', `${agentPath(name)}/kill`, { signal });
export const restartAgent = (name: string) => call('POST', `${agentPath(name)}/restart`, {});
export const spawnAgent = (request: Record<string, unknown>) => call<{ agent: Agent }>('POST', '/v1/agents', request).then((r) => r.agent);
export const removeAgent = (name: string) => call('DELETE', agentPath(name));

/** ws://host/path on the page's own origin: the cookie and Origin go with it. */
export function socketUrl(path: string): string {
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${path}`;
}

export function attachUrl(name: string, query: Record<string, string | number>): string {
  return socketUrl(`${agentPath(name)}/attach?${new URLSearchParams(Object.entries(query).map(([k, v]) => [k, String(v)]))}`);
}

/** A pending (or just decided) approval request: the Approval object of docs/approvals.md. */
export type Approval = ApprovalView;

const approvalPath = (id: string) => `/v1/approvals/${encodeURIComponent(id)}`;
export const approve = (id: string, always: boolean) => call<{ approval: Approval }>('POST', `${approvalPath(id)}/approve`, { by: 'dashboard', always });
export const deny = (id: string, reason: string) => call<{ approval: Approval }>('POST', `${approvalPath(id)}/deny`, { by: 'dashboard', ...(reason ? { reason } : {}) });

/** An audit row (docs/api.md, Events). */
export interface AuditEvent {
  id: number;
  ts: number;
  type: string;
  agent: string | null;
  data: Record<string, unknown>;
}

export const recentEvents = (limit: number) => call<{ events: AuditEvent[] }>('GET', `/v1/events?limit=${limit}`).then((r) => r.events);

/** GET /v1/agents/:name/diff: the task's changes against its base. */
export type { TaskDiff };

export interface PullResult {
  branch: string;
  into: string;
  outcome: string;
  commit: string;
  nested: string[];
}

export const taskDiff = (name: string) => call<{ diff: TaskDiff }>('GET', `${agentPath(name)}/diff`).then((r) => r.diff);
export const pullTask = (name: string, mode: string) => call<{ pull: PullResult }>('POST', `${agentPath(name)}/pull`, { mode }).then((r) => r.pull);
