import { parseFlags, type FlagTable, type ParsedArgs } from './flag-table.js';

/** The options of `celistra run`, in `--help` order. A new option is one line here. */
export const RUN_FLAGS = {
  workspace: { type: 'string', description: 'directory the command may write (required unless --worktree)', valueHint: 'DIR' },
  worktree: { type: 'string', description: 'task worktree NAME (celistra worktree add) of the current repository, as the workspace', valueHint: 'NAME' },
  backend: { type: 'string', description: 'auto | landlock | bwrap | seatbelt | none (none = UNSANDBOXED)', default: 'auto' },
  preset: { type: 'string', description: 'agent preset: claude | codex | aider | none (default: the preset of a known agent command, e.g. claude)' },
  'allow-write': { type: 'string', description: 'extra writable directory (repeatable)', valueHint: 'PATH', repeatable: true },
  'deny-read': { type: 'string', description: 'path the command may not read (repeatable); credentials (~/.ssh, ~/.aws, ~/.gnupg, ~/.config/gh, ~/.netrc, ~/.git-credentials, ~/.kube, cloud and agent logins) are always denied', valueHint: 'PATH', repeatable: true },
  'allow-read': { type: 'string', description: 'lift a default read-deny for this run, e.g. ~/.config/gh for gh or ~/.kube for kubectl (repeatable; your agent logins and Celistra\'s own dirs stay denied)', valueHint: 'PATH', repeatable: true },
  net: { type: 'string', description: 'network: on | off', default: 'on' },
  'allow-unix-sockets': { type: 'boolean', description: 'let the command create unix sockets (Docker, ssh-agent, D-Bus become reachable); refused by default' },
  'max-procs': { type: 'string', description: 'most tasks (processes and threads) the command may hold at once, or unlimited (default 4096)', valueHint: 'N' },
  memory: { type: 'string', description: 'memory limit, e.g. 512M or 2G (needs a memory cgroup; the command is OOM-killed past it)', valueHint: 'SIZE' },
  cpu: { type: 'string', description: 'CPU limit in CPUs, e.g. 1.5 (needs a cpu cgroup)', valueHint: 'N' },
  name: { type: 'string', description: 'name recorded in the audit log (default: the worktree name or the workspace folder name)' },
  verbose: { type: 'boolean', description: 'print the backend and plan on stderr, and which of stdin, stdout, stderr (a file, your terminal) is relayed' },
} as const satisfies FlagTable;

export type RunArgs = ParsedArgs<typeof RUN_FLAGS>;

/** `celistra run`'s arguments (after `run`); throws E_USAGE for an unknown option. */
export function parseRunArgs(rawArgs: string[]): RunArgs {
  return parseFlags(RUN_FLAGS, rawArgs, 'celistra run --help');
}
