import { AUDIT_EVENT_TYPES, isAuditEventType, type AuditEventType, type AuditQuery, type AuditRow } from '../audit/index.js';
import { parseSince } from '../audit/since.js';
import { HttpError } from './http-error.js';

/** `GET /v1/events` answers this many rows unless `limit` says otherwise (as `celistra history`). */
export const DEFAULT_EVENTS_LIMIT = 50;
/** The most rows one `GET /v1/events` answers: a bigger page is a client bug, not a query. */
export const MAX_EVENTS_LIMIT = 10_000;
/** Agent names from `celistra run` are folder names (255 bytes at most); anything longer matches nothing. */
const MAX_AGENT_FILTER_CHARS = 256;

/** What both event endpoints filter on. */
export interface EventFilter {
  agent?: string;
  type?: AuditEventType;
}

/** `GET /v1/events`: the same query as `celistra history`. */
export interface EventsQuery extends EventFilter {
  since?: number;
  limit: number;
}

/** `WS /v1/events/stream`: rows above `after` (undefined: only rows committed from now on). */
export interface EventStreamQuery extends EventFilter {
  after?: number;
  /** `diffStats=1`: also send `{diffStat: {agent, stat}}` whenever an agent's diff stat changes (the dashboard's fleet). */
  diffStats?: boolean;
}

const QUERY_PARAMS = ['agent', 'type', 'since', 'limit'] as const;
const STREAM_PARAMS = ['agent', 'type', 'after', 'diffStats'] as const;

export function parseEventsQuery(params: URLSearchParams, now: number): EventsQuery {
  const get = singleValues(params, QUERY_PARAMS);
  const query: EventsQuery = { ...parseFilter(get), limit: DEFAULT_EVENTS_LIMIT };
  const since = get('since');
  if (since !== undefined) query.since = parseSinceParam(since, now);
  const limit = get('limit');
  if (limit !== undefined) {
    const n = /^\d{1,9}$/.test(limit) ? Number(limit) : Number.NaN;
    if (!(n >= 1 && n <= MAX_EVENTS_LIMIT)) throw new HttpError(400, 'E_USAGE', `limit must be an integer from 1 to ${MAX_EVENTS_LIMIT}, not "${limit}"`);
    query.limit = n;
  }
  return query;
}

export function parseStreamQuery(params: URLSearchParams): EventStreamQuery {
  const get = singleValues(params, STREAM_PARAMS);
  const query: EventStreamQuery = parseFilter(get);
  const after = get('after');
  if (after !== undefined) {
    if (!/^\d{1,15}$/.test(after)) throw new HttpError(400, 'E_USAGE', `after must be an event id (a non-negative integer), not "${after}"`);
    query.after = Number(after);
  }
  const diffStats = get('diffStats');
  if (diffStats !== undefined) {
    if (diffStats !== '0' && diffStats !== '1') throw new HttpError(400, 'E_USAGE', `diffStats must be 1 or 0, not "${diffStats.slice(0, 64)}"`);
    query.diffStats = diffStats === '1';
  }
  return query;
}

/** The AuditLog query for an EventsQuery. */
export function toAuditQuery(q: EventsQuery): AuditQuery {
  return { agent: q.agent, type: q.type, since: q.since, limit: q.limit };
}

export function matchesFilter(filter: EventFilter, row: AuditRow): boolean {
  return (filter.agent === undefined || row.agent === filter.agent) && (filter.type === undefined || row.type === filter.type);
}

/**
 * Each known parameter at most once; an unknown one is refused rather than ignored, so a
 * typo (`event=` for `type=`) is an error instead of an unfiltered answer.
 */
function singleValues(params: URLSearchParams, known: readonly string[]): (key: string) => string | undefined {
  for (const key of new Set(params.keys())) {
    if (!known.includes(key)) throw new HttpError(400, 'E_USAGE', `unknown query parameter "${key.slice(0, 64)}" (known: ${known.join(', ')})`);
    if (params.getAll(key).length > 1) throw new HttpError(400, 'E_USAGE', `query parameter "${key}" is given more than once`);
  }
  return (key) => params.get(key) ?? undefined;
}

function parseFilter(get: (key: string) => string | undefined): EventFilter {
  const filter: EventFilter = {};
  const agent = get('agent');
  if (agent !== undefined) {
    if (agent.length === 0 || agent.length > MAX_AGENT_FILTER_CHARS) throw new HttpError(400, 'E_USAGE', `agent must be an agent name of 1 to ${MAX_AGENT_FILTER_CHARS} characters`);
    filter.agent = agent;
  }
  const type = get('type');
  if (type !== undefined) {
    if (!isAuditEventType(type)) throw new HttpError(400, 'E_USAGE', `unknown event type "${type.slice(0, 64)}" (known: ${AUDIT_EVENT_TYPES.join(', ')})`);
    filter.type = type;
  }
  return filter;
}

/** As `history --since` (30m, 24h, 7d, 2w, an ISO date/time), plus ms since the epoch for programs. */
function parseSinceParam(text: string, now: number): number {
  if (/^\d{1,15}$/.test(text)) return Number(text);
  const since = parseSince(text, now);
  if (since === undefined) throw new HttpError(400, 'E_USAGE', `since "${text.slice(0, 64)}" is neither a span (30m, 24h, 7d, 2w), an ISO date/time nor ms since the epoch`);
  return since;
}
