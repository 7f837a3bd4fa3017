import { allowedByClaude, claudeAllowRules } from './claude-allowed.js';
import { askAndWait } from './asker.js';
import { CHANNEL_ENV, DEFAULT_TIMEOUT_SEC } from './protocol.js';
import { subjectOf } from './rules.js';

/**
 * Tools that only read or keep Claude's own notes: they never need a person, and asking
 * for each would bury the questions that matter. Everything else goes to the queue,
 * where the agent's rules (`--approve`, `--auto-allow`) decide what a person sees.
 */
const NEVER_ASK = new Set(['Read', 'Glob', 'Grep', 'LS', 'NotebookRead', 'TodoWrite', 'TodoRead', 'BashOutput', 'TaskOutput', 'ExitPlanMode']);

/** What `--permission-mode acceptEdits` lets Claude do without asking. */
const ACCEPT_EDITS = new Set(['Edit', 'MultiEdit', 'Write', 'NotebookEdit']);

/**
 * Claude Code's PreToolUse hook (the claude preset seeds it in settings.json): the hook
 * input on stdin, the decision as the JSON it reads on stdout. No output means "no
 * decision": Claude's own permission rules then apply, as without Celistra. So a
 * read-only tool, a call Claude's own rules allow (`--allowedTools`, `permissions.allow`,
 * acceptEdits, `--dangerously-skip-permissions`), or a run without an approval channel
 * (`celistra run`, not the daemon) behaves exactly as before.
 */
export async function claudePreToolUse(stdin: string, env: NodeJS.ProcessEnv): Promise<string> {
  let hook: { tool_name?: unknown; tool_input?: unknown; permission_mode?: unknown };
  try {
    hook = JSON.parse(stdin);
  } catch {
    return '';
  }
  const tool = typeof hook.tool_name === 'string' ? hook.tool_name : '';
  if (!env[CHANNEL_ENV] || !tool || NEVER_ASK.has(tool) || hook.permission_mode === 'bypassPermissions') return '';
  const input = hook.tool_input && typeof hook.tool_input === 'object' && !Array.isArray(hook.tool_input) ? (hook.tool_input as Record<string, unknown>) : {};
  if (hook.permission_mode === 'acceptEdits' && ACCEPT_EDITS.has(tool)) return '';
  // Claude's own allow rules first: what it would run without asking needs no person.
  if (allowedByClaude(claudeAllowRules(env), tool, subjectOf(tool, input, ''))) return '';
  const answer = await askAndWait(
    {
      v: 1,
      text: summary(tool, input),
      ...(typeof input.description === 'string' ? { detail: input.description.slice(0, 8000) } : {}),
      // Claude's tool names may hold characters the protocol does not take (mcp__server__tool is fine).
      tool: tool.replace(/[^A-Za-z0-9_.:-]/g, '_').slice(0, 64),
      input,
      timeoutSec: DEFAULT_TIMEOUT_SEC,
    },
    env,
  );
  const allow = answer?.state === 'approved';
  const reason = answer
    ? `${answer.state === 'approved' ? 'approved' : answer.state === 'expired' ? 'no answer in time (denied)' : answer.state} by ${answer.by ?? 'Celistra'}${answer.id ? ` (request ${answer.id})` : ''}${answer.reason ? `: ${answer.reason}` : ''}`
    : 'no answer from Celistra in time (denied)';
  return `${JSON.stringify({ hookSpecificOutput: { hookEventName: 'PreToolUse', permissionDecision: allow ? 'allow' : 'deny', permissionDecisionReason: reason } })}\n`;
}

/** One line for a person: the command for Bash, the path for file tools. */
function summary(tool: string, input: Record<string, unknown>): string {
  const subject = ['command', 'file_path', 'path', 'url', 'pattern'].map((k) => input[k]).find((v) => typeof v === 'string') as string | undefined;
  const line = subject ? `${tool}: ${subject}` : tool;
  return line.length > 2000 ? `${line.slice(0, 1997)}...` : line;
}
