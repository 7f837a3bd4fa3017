/**
 * Agent presets: what a real agent needs beyond its workspace, as plain data.
 * Paths starting with `~/` are relative to the user's home. Adding an agent is
 * adding an entry here.
 */
export interface Preset {
  name: string;
  description: string;
  /** Directories the agent keeps its state in; created (0700) if missing, then writable. */
  writableDirs: string[];
  /**
   * Single files in the home directory the agent rewrites. Many agents write these by
   * write-then-rename, which needs write access to the parent directory; prefer an
   * env var that moves the file into one of `writableDirs` when the agent has one.
   */
  writableFiles: string[];
  /** Extra environment for the agent, `~/` expanded. */
  env: Record<string, string>;
  /**
   * Entries inside `writableDirs` that configure what the agent runs (hooks, MCP servers,
   * plugins, instructions): kept read-only, because the same directory is the user's own
   * unfenced agent's config, and a fenced agent must not plant code that runs there.
   * Each is created if missing (a file from `seed`, or an empty 0700 dir): a path that
   * does not exist cannot be bound read-only, and would leave the agent free to create it.
   */
  protectedEntries: ProtectedEntry[];
}

/** A `~/` path inside one of the preset's `writableDirs`, kept read-only under the fence. */
export type ProtectedEntry =
  | { path: string; kind: 'file'; /** Content of the file when it has to be created; must mean "nothing configured". */ seed: string }
  | { path: string; kind: 'dir' };

const file = (path: string, seed: string): ProtectedEntry => ({ path, kind: 'file', seed });
const dir = (path: string): ProtectedEntry => ({ path, kind: 'dir' });

export const PRESETS: Record<string, Preset> = {
  claude: {
    name: 'claude',
    description: 'Claude Code: state in its own ~/.claude-celistra (CLAUDE_CONFIG_DIR), not your ~/.claude; self-update off',
    writableDirs: ['~/.claude-celistra'],
    writableFiles: [],
    env: {
      // A config dir of its own, not the user's ~/.claude: whatever a fenced agent writes
      // there (hooks, MCP servers in a planted .config.json, ...) would otherwise run in
      // the user's next unfenced `claude`. The price: fenced agents log in once and do
      // not share your settings. It also keeps .claude.json (rewritten by rename, with a
      // lock dir) out of $HOME, which stays read-only.
      CLAUDE_CONFIG_DIR: '~/.claude-celistra',
      // The auto-updater runs `npm install -g` into the global prefix: outside any fence,
      // and an agent must not replace its own binary. It would only fail there.
      DISABLE_AUTOUPDATER: '1',
    },
    // What Claude Code loads from its config dir as configuration or code: settings (hooks,
    // statusLine, apiKeyHelper, MCP and permission rules), memory, and the directories of
    // commands, agents, skills, plugins, output styles, rules and workflows; `local/` holds
    // a local install's `claude` launcher, `chrome/` the browser's native-messaging host
    // script, `session-env/` the env files sourced before each Bash command. The theme
    // and onboarding state live elsewhere or fail silently (docs/presets.md).
    protectedEntries: [
      file('~/.claude-celistra/settings.json', '{}\n'),
      file('~/.claude-celistra/settings.local.json', '{}\n'),
      file('~/.claude-celistra/CLAUDE.md', ''),
      dir('~/.claude-celistra/hooks'),
      dir('~/.claude-celistra/commands'),
      dir('~/.claude-celistra/agents'),
      dir('~/.claude-celistra/skills'),
      dir('~/.claude-celistra/plugins'),
      dir('~/.claude-celistra/output-styles'),
      dir('~/.claude-celistra/rules'),
      dir('~/.claude-celistra/workflows'),
      dir('~/.claude-celistra/local'),
      dir('~/.claude-celistra/chrome'),
      dir('~/.claude-celistra/session-env'),
    ],
  },
  codex: {
    name: 'codex',
    description: 'OpenAI Codex CLI: state in its own ~/.codex-celistra (CODEX_HOME), not your ~/.codex',
    // Besides config, sqlite state and logs, Codex installs its app-server (~400 MB) under
    // ~/.codex-celistra/packages and binds its control sockets in ~/.codex. Its daemon also locks
    // /tmp/codex-daemon-<uid>: fine on the private /tmp a fence gives, see docs/presets.md.
    writableDirs: ['~/.codex-celistra'],
    writableFiles: [],
    // Its own home for the same reason as claude's: config.toml's notify/mcp_servers would
    // otherwise run in the user's unfenced codex.
    env: { CODEX_HOME: '~/.codex-celistra' },
    // config.toml carries notify, mcp_servers, profiles and the sandbox settings; hooks.json
    // runs commands; AGENTS(.override).md are the global instructions (an empty override is
    // skipped, so seeding one does not shadow AGENTS.md); prompts/ and rules/ (execpolicy:
    // commands allowed without asking) and plugins/ complete it. Codex's own first-start
    // write to config.toml is then refused, which it survives (docs/presets.md).
    protectedEntries: [
      file('~/.codex-celistra/config.toml', ''),
      file('~/.codex-celistra/hooks.json', '{}\n'),
      file('~/.codex-celistra/AGENTS.md', ''),
      file('~/.codex-celistra/AGENTS.override.md', ''),
      dir('~/.codex-celistra/prompts'),
      dir('~/.codex-celistra/rules'),
      dir('~/.codex-celistra/plugins'),
    ],
  },
  aider: {
    name: 'aider',
    description: 'Aider (unproven here): caches in ~/.aider and ~/.cache/aider',
    writableDirs: ['~/.aider', '~/.cache/aider'],
    writableFiles: [],
    env: {},
    // Aider's configuration (.aider.conf.yml, .env) is read from the home and the repo,
    // neither of which the preset makes writable; its two dirs hold caches only.
    protectedEntries: [],
  },
};

export function presetNames(): string[] {
  return Object.keys(PRESETS);
}
