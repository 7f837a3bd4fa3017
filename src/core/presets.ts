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
    description: 'Claude Code: state in ~/.claude (settings, sessions, credentials)',
    writableDirs: ['~/.claude'],
    writableFiles: [],
    // Claude Code keeps ~/.claude.json beside ~/.claude and rewrites it by rename in
    // $HOME; CLAUDE_CONFIG_DIR moves it inside ~/.claude so $HOME stays read-only.
    env: { CLAUDE_CONFIG_DIR: '~/.claude' },
  },
  codex: {
    name: 'codex',
    description: 'OpenAI Codex CLI: state in ~/.codex',
    writableDirs: ['~/.codex'],
    writableFiles: [],
    env: { CODEX_HOME: '~/.codex' },
  },
  aider: {
    name: 'aider',
    description: 'Aider: caches in ~/.aider and ~/.cache',
    writableDirs: ['~/.aider', '~/.cache/aider'],
    writableFiles: [],
    env: {},
  },
};

export function presetNames(): string[] {
  return Object.keys(PRESETS);
}
