/**
 * Agent presets: what a real agent needs beyond its workspace, as plain data.
 * Paths starting with `~/` are relative to the user's home. Adding an agent is
 * adding an entry here.
 */
export interface Preset {
  name: string;
  description: string;
  /** A state dir of the agent's own, one per workspace (see AgentStateDir). */
  stateDir?: AgentStateDir;
  /**
   * Directories shared by every agent run with this preset; created (0700) if missing,
   * then writable. Whatever one fenced agent writes there, the next one reads: keep this
   * to caches, and prefer `stateDir` for anything the agent loads as configuration.
   */
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

/**
 * Where an agent keeps its state when two fenced agents must never share it: each
 * workspace gets `<base>/agents/<key>/`, the key derived from the workspace's real path,
 * and only that directory is writable. The rest of `base` (other agents' dirs, and
 * whatever fenced agents wrote there when it was one shared config dir) is hidden from
 * every fenced agent and never read by Celistra.
 */
export interface AgentStateDir {
  /** `~/` path of the directory holding every agent's own state dir. */
  base: string;
  /** The env var through which the agent finds its state dir. */
  envVar: string;
  /**
   * The user's own login files, copied into each agent's state dir at start when the
   * copy is missing or older. Never taken from `base`: fenced agents could write there.
   */
  logins: LoginFile[];
  /**
   * Entries inside the agent's state dir that configure what the agent runs (hooks, MCP
   * servers, plugins, instructions), relative to it: kept read-only, so the agent cannot
   * plant code that its own next run, or the user resuming its session unfenced, loads.
   * Each is created if missing (a file from `seed`, or an empty 0700 dir): a path that
   * does not exist cannot be bound read-only, and would leave the agent free to create it.
   */
  protectedEntries: ProtectedEntry[];
}

/**
 * A login file of the user's own, unfenced agent. Its source must lie where no fenced
 * agent can ever write (in DEFAULT_DENY_READ, so no writable root may hold it).
 */
export interface LoginFile {
  /** `~/` path of the user's own login. */
  source: string;
  /** File name of the copy in the agent's state dir. */
  name: string;
}

/** A protected file's content when Celistra creates it: fixed, or made for the agent's workspace (its real path). */
export type Seed = string | ((workspace: string) => string);

/** The seed's text for the agent working in `workspace` (realpath'd). */
export function seedText(seed: Seed, workspace: string): string {
  return typeof seed === 'string' ? seed : seed(workspace);
}

/** A path inside the agent's state dir (relative to it), kept read-only under the fence. */
export type ProtectedEntry =
  | {
      path: string;
      kind: 'file';
      /** Content of the file when it has to be created: nothing configured beyond what the fence needs. */
      seed: Seed;
      /** Seeds of earlier Celistra versions: a file still holding one exactly (nobody edited it) is brought up to `seed`. */
      formerSeeds?: string[];
    }
  | { path: string; kind: 'dir' };

const file = (path: string, seed: Seed, formerSeeds?: string[]): ProtectedEntry => (formerSeeds ? { path, kind: 'file', seed, formerSeeds } : { path, kind: 'file', seed });

/**
 * The codex preset's config.toml (docs/presets.md, codex part), for the agent working in
 * `workspace`: each agent has its own CODEX_HOME, one per workspace.
 *
 * `sandbox_mode`: Codex runs each command of the model in a sandbox of its own, made with
 * its bundled bwrap in a new user namespace. Inside Celistra's fence that cannot start as
 * root (either backend) nor unprivileged under landlock ("bwrap: setting up uid map"), so
 * every shell command and every `apply_patch` failed; unprivileged under bwrap it nests,
 * redundantly. Celistra's fence is the sandbox that holds; codex's own is off, as with
 * `codex -s danger-full-access`.
 *
 * `[projects."<workspace>"]`: the interactive TUI asks whether to trust the folder and
 * saves the answer in config.toml, which is read-only to the agent: the save failed and
 * the TUI never got past that screen. The workspace is the one the user handed to
 * Celistra for this agent; it is trusted here, for this agent only.
 *
 * `daemon_auto_start`: Codex 0.169's TUI starts a background app-server and talks to it
 * over a unix socket in CODEX_HOME; the fence refuses unix sockets (docs/security.md), so
 * the TUI could not start. With this feature off it runs the app-server inside its own
 * process instead, the same as `codex --disable daemon_auto_start`, and nothing outlives
 * the agent.
 */
const codexConfigSeed = (workspace: string): string =>
  [
    "# Made by Celistra (codex preset): its fence is the sandbox; codex's own fails inside it (docs/presets.md).",
    'sandbox_mode = "danger-full-access"',
    '',
    `[projects.${JSON.stringify(workspace)}]`,
    'trust_level = "trusted"',
    '',
    '[features]',
    'daemon_auto_start = false',
    '',
  ].join('\n');
/** What earlier Celistra versions seeded; a config.toml still holding one exactly is brought up to codexConfigSeed. */
const CODEX_FORMER_SEEDS = ['', '[features]\ndaemon_auto_start = false\n'];
const dir = (path: string): ProtectedEntry => ({ path, kind: 'dir' });

/**
 * Claude Code's tool calls reach Celistra's approval queue through a PreToolUse hook
 * (docs/approvals.md): it fires in --print and interactive mode alike, before Claude's
 * own permission check. The hook runs `celistra ask --hook claude` inside the fence with
 * the node and CLI the daemon names in the agent's env; without them (`celistra run`,
 * no daemon) it runs `true` and decides nothing, so Claude's own rules apply as before.
 * The timeout outlasts a request's default 300 s expiry.
 */
const CLAUDE_SETTINGS_SEED = `${JSON.stringify(
  {
    hooks: {
      PreToolUse: [{ matcher: '*', hooks: [{ type: 'command', command: '"${CELISTRA_NODE:-true}" "${CELISTRA_CLI:-}" ask --hook claude', timeout: 330 }] }],
    },
  },
  null,
  2,
)}\n`;

export const PRESETS: Record<string, Preset> = {
  claude: {
    name: 'claude',
    description: 'Claude Code: state in ~/.claude-celistra/agents/<workspace key> (CLAUDE_CONFIG_DIR), not your ~/.claude; self-update off',
    // A config dir per agent, never the user's ~/.claude nor one shared by fenced agents:
    // whatever an agent writes there (a .config.json with MCP servers, shell snapshots,
    // session files, ...) is loaded by whoever next uses that dir. It also keeps
    // .claude.json (rewritten by rename, with a lock dir) out of $HOME, which stays
    // read-only. The login is a copy of the user's own (`claude /login`, unfenced).
    stateDir: {
      base: '~/.claude-celistra',
      envVar: 'CLAUDE_CONFIG_DIR',
      logins: [{ source: '~/.claude/.credentials.json', name: '.credentials.json' }],
      // What Claude Code loads from its config dir as configuration or code: settings (hooks,
      // statusLine, apiKeyHelper, MCP and permission rules), memory, and the directories of
      // commands, agents, skills, plugins, output styles, rules and workflows; `local/` holds
      // a local install's `claude` launcher, `chrome/` the browser's native-messaging host
      // script. The theme and onboarding state live elsewhere or fail silently. Not
      // `session-env/`: Claude Code creates `session-env/<session id>/` before every Bash
      // command, so read-only it broke them all; what it holds is sourced only by later
      // sessions in this same fence (docs/presets.md, "Which entries stay read-only").
      protectedEntries: [
        file('settings.json', CLAUDE_SETTINGS_SEED, ['{}\n']),
        file('settings.local.json', '{}\n'),
        file('CLAUDE.md', ''),
        dir('hooks'),
        dir('commands'),
        dir('agents'),
        dir('skills'),
        dir('plugins'),
        dir('output-styles'),
        dir('rules'),
        dir('workflows'),
        dir('local'),
        dir('chrome'),
      ],
    },
    writableDirs: [],
    writableFiles: [],
    env: {
      // The auto-updater runs `npm install -g` into the global prefix: outside any fence,
      // and an agent must not replace its own binary. It would only fail there.
      DISABLE_AUTOUPDATER: '1',
    },
  },
  codex: {
    name: 'codex',
    description: 'OpenAI Codex CLI: state in ~/.codex-celistra/agents/<workspace key> (CODEX_HOME), not your ~/.codex',
    // Its own home per agent for the same reasons as claude's: config.toml's
    // notify/mcp_servers, sessions and memories would otherwise reach the user's unfenced
    // codex or another fenced one. Besides config, it keeps sqlite state and logs there; its
    // background app-server (a 400 MB copy and a unix socket) is switched off by the seeded
    // config.toml (codexConfigSeed).
    // The login is a copy of the user's own (`codex login`, unfenced).
    stateDir: {
      base: '~/.codex-celistra',
      envVar: 'CODEX_HOME',
      logins: [{ source: '~/.codex/auth.json', name: 'auth.json' }],
      // config.toml carries notify, mcp_servers, profiles and the sandbox settings; hooks.json
      // runs commands; AGENTS(.override).md are the global instructions (an empty override is
      // skipped, so seeding one does not shadow AGENTS.md); prompts/ and rules/ (execpolicy:
      // commands allowed without asking) and plugins/ complete it. Codex's own first-start
      // write to config.toml is then refused, which it survives (docs/presets.md).
      protectedEntries: [
        file('config.toml', codexConfigSeed, CODEX_FORMER_SEEDS),
        file('hooks.json', '{}\n'),
        file('AGENTS.md', ''),
        file('AGENTS.override.md', ''),
        dir('prompts'),
        dir('rules'),
        dir('plugins'),
      ],
    },
    writableDirs: [],
    writableFiles: [],
    env: {},
  },
  aider: {
    name: 'aider',
    description: 'Aider (unproven here): caches in ~/.aider and ~/.cache/aider',
    writableDirs: ['~/.aider', '~/.cache/aider'],
    writableFiles: [],
    // Aider's configuration (.aider.conf.yml, .env) is read from the home and the repo,
    // neither of which the preset makes writable; its two dirs hold caches only, shared by
    // every fenced aider (it has no env var to move them per agent).
    env: {},
  },
};

export function presetNames(): string[] {
  return Object.keys(PRESETS);
}
