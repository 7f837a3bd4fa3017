import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { matches } from './rules.js';

/**
 * Claude Code's own allow rules, as the hook can see them from inside the fence: the
 * `--allowedTools` / `--allowed-tools` of the claude process it runs under (found by
 * walking up /proc), and `permissions.allow` of the settings in its config dir. A tool
 * call these allow needs no person: the agent's own rules come first (docs/approvals.md).
 * Only what the agent cannot rewrite counts: the config dir's settings are read-only
 * under the preset; the project's `.claude/settings*.json` lie in the writable workspace
 * and are not read here.
 */
export function claudeAllowRules(env: NodeJS.ProcessEnv): string[] {
  const rules = [...cliAllowedTools()];
  if (env.CLAUDE_CONFIG_DIR) for (const f of ['settings.json', 'settings.local.json']) rules.push(...settingsAllow(join(env.CLAUDE_CONFIG_DIR, f)));
  return rules;
}

export function allowedByClaude(rules: string[], tool: string, subject: string): boolean {
  return rules.some((r) => matches(r, tool, subject));
}

/** The allowed-tools values of the nearest ancestor that was given any; none found: none. */
function cliAllowedTools(): string[] {
  let pid = process.ppid;
  for (let depth = 0; depth < 8 && pid > 1; depth++) {
    let argv: string[];
    let stat: string;
    try {
      argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      return [];
    }
    const found = allowedToolsArgs(argv);
    if (found.length) return found;
    // The ppid is the 2nd field after the command name, which may itself hold spaces and parens.
    pid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  }
  return [];
}

/** `--allowedTools A B --`, `--allowed-tools "A,B"`, `--allowedTools=A`: each value may list several rules. */
export function allowedToolsArgs(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const eq = /^--(allowedTools|allowed-tools)=(.*)$/s.exec(a);
    if (eq) out.push(...splitRules(eq[2]!));
    else if (a === '--allowedTools' || a === '--allowed-tools') {
      while (i + 1 < argv.length && !argv[i + 1]!.startsWith('-')) out.push(...splitRules(argv[++i]!));
    }
  }
  return out;
}

/** Commas and spaces separate rules, except inside a rule's parentheses. */
function splitRules(value: string): string[] {
  return value.split(/[,\s]+(?![^(]*\))/).filter(Boolean);
}

function settingsAllow(path: string): string[] {
  try {
    const allow = (JSON.parse(readFileSync(path, 'utf8')) as { permissions?: { allow?: unknown } }).permissions?.allow;
    return Array.isArray(allow) ? allow.filter((r): r is string => typeof r === 'string') : [];
  } catch {
    return [];
  }
}
