/**
 * The approval channel's wire format: what a fenced agent writes into its spool
 * directory, and what the daemon writes back into the read-only answers directory
 * (docs/approvals.md, "The channel"). Plain data and checks only: `celistra ask` runs
 * inside the fence on every question and loads nothing else of the daemon.
 */

/** The env var naming the agent's spool directory (set by the daemon for each run). */
export const CHANNEL_ENV = 'CELISTRA_APPROVALS';
/** Where, inside the spool directory, the daemon writes the answers (read-only to the agent). */
export const ANSWERS_DIR = 'answers';

/** A request file's name: `<key>.json`, the key chosen by the asker (random), also naming its answer. */
export const REQUEST_KEY = /^[A-Za-z0-9_-]{8,64}$/;
export const MAX_REQUEST_BYTES = 16 * 1024;
export const MAX_TEXT_CHARS = 2000;
export const MAX_DETAIL_CHARS = 8000;
export const DEFAULT_TIMEOUT_SEC = 300;
export const MAX_TIMEOUT_SEC = 24 * 3600;

/** What an agent asks. The daemon adds who asks (from the directory it came through), never from here. */
export interface ApprovalAsk {
  v: 1;
  /** One line for a person: "run git push origin main". */
  text: string;
  detail?: string;
  /** The tool that wants to run (`Bash`, `Edit`, ...); `ask` for a plain question. */
  tool: string;
  /** The tool's input (for Bash: `{command}`), shown redacted and matched by rules. */
  input?: Record<string, unknown>;
  timeoutSec: number;
}

export type ApprovalState = 'pending' | 'approved' | 'denied' | 'expired' | 'stale';
/** Who answered: a person through the CLI, the dashboard or a phone, or a rule. */
export type ApprovalAnswerer = 'cli' | 'dashboard' | 'phone' | 'rule' | 'daemon';

/** The answer file: first written with state `pending` (naming the id a person uses), then once with the decision. */
export interface ApprovalAnswer {
  v: 1;
  id: string;
  state: ApprovalState | 'refused';
  /** Why (a deny's reason, an expiry, a refusal of a malformed request). */
  reason?: string;
  by?: ApprovalAnswerer;
}

/** A request file's content, checked; a message saying what is wrong otherwise. */
export function parseAsk(text: string): ApprovalAsk | string {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return 'not JSON';
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return 'not a JSON object';
  const o = raw as Record<string, unknown>;
  if (o.v !== 1) return 'unknown version (expected "v": 1)';
  if (typeof o.text !== 'string' || o.text.trim() === '' || o.text.length > MAX_TEXT_CHARS) return `"text" must be a non-empty string of at most ${MAX_TEXT_CHARS} characters`;
  if (o.detail !== undefined && (typeof o.detail !== 'string' || o.detail.length > MAX_DETAIL_CHARS)) return `"detail" must be a string of at most ${MAX_DETAIL_CHARS} characters`;
  const tool = o.tool ?? 'ask';
  if (typeof tool !== 'string' || !/^[A-Za-z0-9_.:-]{1,64}$/.test(tool)) return '"tool" must be 1-64 of A-Z a-z 0-9 _ . : -';
  if (o.input !== undefined && (typeof o.input !== 'object' || o.input === null || Array.isArray(o.input))) return '"input" must be a JSON object';
  const timeoutSec = o.timeoutSec === undefined ? DEFAULT_TIMEOUT_SEC : o.timeoutSec;
  if (typeof timeoutSec !== 'number' || !Number.isInteger(timeoutSec) || timeoutSec < 1 || timeoutSec > MAX_TIMEOUT_SEC) return `"timeoutSec" must be a whole number of seconds, 1 to ${MAX_TIMEOUT_SEC}`;
  const ask: ApprovalAsk = { v: 1, text: o.text, tool, timeoutSec };
  if (o.detail !== undefined) ask.detail = o.detail as string;
  if (o.input !== undefined) ask.input = o.input as Record<string, unknown>;
  return ask;
}

export function parseAnswer(text: string): ApprovalAnswer | undefined {
  try {
    const o = JSON.parse(text) as ApprovalAnswer;
    return o && o.v === 1 && typeof o.id === 'string' && typeof o.state === 'string' ? o : undefined;
  } catch {
    return undefined;
  }
}

/** A decided answer ends the wait; `pending` only names the id. */
export function isFinal(a: ApprovalAnswer): boolean {
  return a.state !== 'pending';
}

