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
}

export const PRESETS: Record<string, Preset> = {
  claude: {
    name: 'claude',
    description: 'Claude Code: all state in ~/.claude (CLAUDE_CONFIG_DIR), self-update off',
    writableDirs: ['~/.claude'],
    writableFiles: [],
    env: {
      // Without it Claude Code keeps ~/.claude.json beside ~/.claude and rewrites it by
      // write-then-rename (plus a ~/.claude.json.lock dir) in $HOME itself; with it that
      // file, its lock and its backups all land in ~/.claude and $HOME stays read-only.
      CLAUDE_CONFIG_DIR: '~/.claude',
      // The auto-updater runs `npm install -g` into the global prefix: outside any fence,
      // and an agent must not replace its own binary. It would only fail there.
      DISABLE_AUTOUPDATER: '1',
    },
  },
  codex: {
    name: 'codex',
    description: 'OpenAI Codex CLI: all state in ~/.codex (CODEX_HOME), including its app-server package and sockets',
    // Besides config, sqlite state and logs, Codex installs its app-server (~400 MB) under
    // ~/.codex/packages and binds its control sockets in ~/.codex. Its daemon also locks
    // /tmp/codex-daemon-<uid>: fine on the private /tmp a fence gives, see docs/presets.md.
    writableDirs: ['~/.codex'],
    writableFiles: [],
    env: { CODEX_HOME: '~/.codex' },
  },
  aider: {
    name: 'aider',
    description: 'Aider (unproven here): caches in ~/.aider and ~/.cache/aider',
    writableDirs: ['~/.aider', '~/.cache/aider'],
    writableFiles: [],
    env: {},
  },
};

export function presetNames(): string[] {
  return Object.keys(PRESETS);
}
