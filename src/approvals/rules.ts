import { CelistraError } from '../policy/errors.js';

/**
 * Per-agent rules given at spawn (`--approve PATTERN`, `--auto-allow`, `--auto-deny`):
 * which requests need a person, and what happens to the others. Persisted in the spec.
 */
export interface ApprovalRules {
  /** Patterns that always go to a person, in Claude Code's permission-rule syntax. */
  ask: string[];
  /** What a request matching no `ask` pattern gets: a person (default), or a rule's allow or deny. */
  otherwise: 'person' | 'allow' | 'deny';
}

export const DEFAULT_RULES: ApprovalRules = { ask: [], otherwise: 'person' };

/** `Tool`, `Tool(exact text)`, `Tool(prefix:*)`, or `*`: the same shape Claude Code's allowedTools use. */
const PATTERN = /^(\*|[A-Za-z0-9_.:-]{1,64})(?:\((.{1,500})\))?$/s;

export function parseRules(value: unknown): ApprovalRules {
  if (value === undefined || value === null) return DEFAULT_RULES;
  if (typeof value !== 'object' || Array.isArray(value)) throw new CelistraError('E_USAGE', '"approvals" must be an object: {"ask": [patterns], "otherwise": "person" | "allow" | "deny"}');
  const o = value as Record<string, unknown>;
  const ask = o.ask ?? [];
  if (!Array.isArray(ask) || !ask.every((p) => typeof p === 'string')) throw new CelistraError('E_USAGE', '"approvals.ask" must be a list of patterns such as "Bash(git push:*)"');
  for (const p of ask as string[]) {
    if (!PATTERN.test(p)) throw new CelistraError('E_USAGE', `bad approval pattern ${JSON.stringify(p)}`, 'write Tool, Tool(exact command) or Tool(prefix:*), e.g. "Bash(git push:*)"');
  }
  const otherwise = o.otherwise ?? 'person';
  if (otherwise !== 'person' && otherwise !== 'allow' && otherwise !== 'deny') throw new CelistraError('E_USAGE', '"approvals.otherwise" must be person, allow or deny');
  return { ask: ask as string[], otherwise };
}

/** The text a pattern's parentheses are matched against: a Bash command, a file path, or the question. */
export function subjectOf(tool: string, input: Record<string, unknown> | undefined, text: string): string {
  for (const key of ['command', 'file_path', 'path', 'url', 'pattern']) {
    const v = input?.[key];
    if (typeof v === 'string') return v;
  }
  return tool === 'ask' ? text : JSON.stringify(input ?? {});
}

export function matches(pattern: string, tool: string, subject: string): boolean {
  const m = PATTERN.exec(pattern);
  if (!m) return false;
  const [, patternTool, arg] = m;
  if (patternTool !== '*' && patternTool !== tool) return false;
  if (arg === undefined) return true;
  if (arg.endsWith(':*')) {
    const prefix = arg.slice(0, -2);
    // `git push:*` matches `git push` and `git push origin`, not `git pushx`.
    return subject === prefix || subject.startsWith(`${prefix} `);
  }
  return subject === arg;
}

/** What the rules say about a request: a person must answer, or the rule answers. */
export function decideByRules(rules: ApprovalRules, tool: string, subject: string): 'person' | 'allow' | 'deny' {
  if (rules.ask.some((p) => matches(p, tool, subject))) return 'person';
  return rules.otherwise;
}
