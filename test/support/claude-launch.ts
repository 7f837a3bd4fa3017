/**
 * How to run the real Claude Code CLI (the devDependency, 2.1.x) against the scripted
 * model (scripted-anthropic.ts): its path, its environment, its command line, and the
 * config that lets its interactive mode start straight at the prompt.
 *
 * Stable API (other tests import it; keep it):
 *
 *   import { CLAUDE_BIN, claudeAvailable, claudeEnv, claudePrintArgs, claudeInteractiveArgs,
 *            seedClaudeConfig, withoutAnthropicEnv, SCRIPTED_API_KEY } from '../support/claude-launch.js';
 *   claudeAvailable()                         // null, or why claude cannot run here (a skip reason)
 *   claudeEnv(model.url)                      // env to add: endpoint, key, no nonessential traffic, ...
 *   withoutAnthropicEnv(process.env)          // a base env with no ANTHROPIC_* / CLAUDE_CONFIG_DIR of the caller's
 *   [CLAUDE_BIN, ...claudePrintArgs('do it', { allowedTools: ['Bash', 'Read'] })]
 *   [CLAUDE_BIN, ...claudeInteractiveArgs('do it', { allowedTools: [...] })]
 *   seedClaudeConfig(configDir, { trustedDirs: [workspace] })   // before an interactive run
 *
 * Facts measured with Claude Code 2.1.197 that this encodes:
 * - ANTHROPIC_BASE_URL + ANTHROPIC_API_KEY (sent as `x-api-key`) point it at the scripted
 *   model; CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1 keeps it from looking up
 *   api.anthropic.com. ANTHROPIC_AUTH_TOKEN, if the caller's env has one, wins over the key
 *   as a Bearer header: callers should not pass one.
 * - In its default permission mode `--print` refuses every tool that needs a permission and
 *   still exits 0: the tools must be allowed (`--allowedTools A B --`: without the `--`
 *   the list swallows the prompt), or all skipped with `--dangerously-skip-permissions`,
 *   which as root it refuses unless IS_SANDBOX=1.
 * - The interactive mode stops at onboarding, folder trust and "use this API key?" screens
 *   unless `.claude.json` in its config dir already answers them (seedClaudeConfig).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The devDependency's launcher (absolute: fenced runs resolve nothing through PATH of ours). */
export const CLAUDE_BIN = fileURLToPath(new URL('../../../node_modules/.bin/claude', import.meta.url));

/** Any key will do for the scripted model; it is what `seedClaudeConfig` approves. */
export const SCRIPTED_API_KEY = 'sk-ant-scripted-celistra-test-key-0123456789';

/** Null when the claude binary is there; otherwise the reason a test or case skips. */
export function claudeAvailable(): string | null {
  return existsSync(CLAUDE_BIN) ? null : `Claude Code is not installed (${CLAUDE_BIN} is missing: npm install)`;
}

/** The environment to add to a run of claude against the scripted model at `modelUrl`. */
export function claudeEnv(modelUrl: string): Record<string, string> {
  return {
    ANTHROPIC_BASE_URL: modelUrl,
    ANTHROPIC_API_KEY: SCRIPTED_API_KEY,
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    // Also set by the claude preset; here too so unfenced runs never update themselves.
    DISABLE_AUTOUPDATER: '1',
    // Only read with --dangerously-skip-permissions, which root may use only in a sandbox.
    IS_SANDBOX: '1',
  };
}

/** The caller's env minus what would override the scripted model's endpoint or key. */
export function withoutAnthropicEnv(env: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined && !/^(ANTHROPIC_|CLAUDE_CODE_OAUTH_TOKEN$|CLAUDE_CONFIG_DIR$)/.test(k)) out[k] = v;
  return out;
}

export interface ClaudePermissions {
  /** Tools allowed without asking (`--allowedTools`), e.g. ['Bash', 'Read', 'Edit', 'Write']. */
  allowedTools?: string[];
  /** `--dangerously-skip-permissions` instead: every tool allowed. */
  skipPermissions?: boolean;
}

function permissionArgs(p: ClaudePermissions): string[] {
  if (p.skipPermissions) return ['--dangerously-skip-permissions'];
  // The `--` ends the list, which otherwise takes the prompt as one more tool name.
  return p.allowedTools?.length ? ['--allowedTools', ...p.allowedTools, '--'] : ['--'];
}

/** Arguments after the claude binary for one `--print` task (runs the loop, prints the last text, exits). */
export function claudePrintArgs(prompt: string, p: ClaudePermissions = {}): string[] {
  return ['--print', ...permissionArgs(p), prompt];
}

/** Arguments after the claude binary for the interactive mode, starting with `prompt` as the first message. */
export function claudeInteractiveArgs(prompt: string, p: ClaudePermissions = {}): string[] {
  return [...permissionArgs(p), prompt];
}

export interface ClaudeSeed {
  /** Directories whose trust dialog is answered yes (the agent's working directory). */
  trustedDirs: string[];
  /** The key whose "use this API key?" question is answered yes (default SCRIPTED_API_KEY). */
  apiKey?: string;
}

/**
 * Writes (or merges into) `<configDir>/.claude.json` what the interactive mode asks on a
 * first start: onboarding done, each trusted dir's folder trust, and the API key approved
 * (Claude Code stores the key's last 20 characters). `configDir` is CLAUDE_CONFIG_DIR
 * (with the claude preset: the agent's own dir, which must exist already: Celistra
 * creates and records it on the first fenced run, and moves aside one it did not make).
 */
export function seedClaudeConfig(configDir: string, seed: ClaudeSeed): void {
  const file = join(configDir, '.claude.json');
  const config = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>) : {};
  const projects = { ...((config.projects as Record<string, object>) ?? {}) };
  for (const dir of seed.trustedDirs) projects[dir] = { ...(projects[dir] ?? {}), hasTrustDialogAccepted: true, hasCompletedProjectOnboarding: true };
  const key = seed.apiKey ?? SCRIPTED_API_KEY;
  const approved = new Set<string>(((config.customApiKeyResponses as { approved?: string[] })?.approved ?? []).concat(key.slice(-20)));
  Object.assign(config, {
    hasCompletedOnboarding: true,
    theme: 'dark',
    projects,
    customApiKeyResponses: { approved: [...approved], rejected: [] },
  });
  writeFileSync(file, JSON.stringify(config, null, 2), { mode: 0o600 });
}
