import type { ApprovalAnswerer, ApprovalState } from './protocol.js';

/**
 * One approval request as the daemon keeps it (and `/v1/approvals` shows it). Text,
 * detail and input are stored redacted (redact.ts): the raw input is only ever seen
 * by the rules, in memory, when the request arrives.
 */
export interface ApprovalRequest {
  /** 8 hex digits: what a person types (`celistra approve 3f9c0a12`). */
  id: string;
  agent: string;
  /** The agent run that asked: the request goes stale when that run ends. */
  runId: string;
  /** The task the agent works on: its worktree name, else its branch, else its workspace's name. */
  task: string;
  branch: string | null;
  tool: string;
  text: string;
  detail: string | null;
  input: Record<string, unknown> | null;
  created: number;
  expires: number;
  state: ApprovalState;
  /** Times the same question was asked while it was pending (duplicates collapse into one request). */
  asks: number;
  decidedAt: number | null;
  by: ApprovalAnswerer | null;
  reason: string | null;
  /** Identifies the same question again (tool, raw input and text): duplicates and `approve --always`. */
  fingerprint: string;
  /** The request files waiting on this answer (their names in the run's spool). */
  keys: string[];
}

/** What the API shows: everything but the spool's file names. */
export type ApprovalView = Omit<ApprovalRequest, 'keys'>;

export function toView(r: ApprovalRequest): ApprovalView {
  const { keys: _keys, ...view } = r;
  return view;
}
