import { defineCommand } from 'citty';
import { resolve } from 'node:path';
import type { AgentSummary } from '../../daemon/agent-spec.js';
import { parseEnvAssignment, parseEnvFile } from '../../daemon/agent-env.js';
import { CelistraError } from '../../policy/errors.js';
import { DEFAULT_MAX_PROCS } from '../../policy/limits.js';
import { describeLimits } from '../../run/limits.js';
import { celistraPaths } from '../../policy/paths.js';
import { DaemonClient } from '../../daemon/client.js';
import { commandAfterDashes, repeatedFlag } from '../argv.js';
import { runCommand } from '../command.js';
import { splitCommandLine } from './command-line.js';

const USAGE = "usage: celistra ctl spawn --workspace DIR [--name NAME] [--auto-restart] -- CMD [ARGS...]   or   ... 'CMD ARGS'";

export default defineCommand({
  meta: { name: 'spawn', description: 'Start an agent under the daemon, fenced to its workspace, in its own PTY.' },
  args: {
    workspace: { type: 'string', description: 'directory the agent may write', valueHint: 'DIR' },
    name: { type: 'string', description: 'agent name (default: its task: task-1 for a worktree on agent/task-1, else the workspace directory name)' },
    'auto-restart': { type: 'boolean', description: 'restart after a crash (backoff; >5 crashes in 60 s → crashed-out)' },
    backend: { type: 'string', description: 'auto | landlock | bwrap | seatbelt | none (none = UNSANDBOXED)', default: 'auto' },
    preset: { type: 'string', description: 'agent preset: claude | codex | aider | none (default: the preset of a known agent command, e.g. claude)' },
    env: { type: 'string', description: 'KEY=VALUE for this agent only (repeatable; values are never shown or audited)', valueHint: 'KEY=VALUE' },
    'env-file': { type: 'string', description: 'read KEY=VALUE lines from this file (repeatable; --env wins)', valueHint: 'FILE' },
    worktree: { type: 'string', description: 'run in this task worktree of the current repository (celistra worktree add NAME) instead of --workspace', valueHint: 'NAME' },
    net: { type: 'string', description: 'network: on | off', default: 'on' },
    'allow-write': { type: 'string', description: 'extra writable directory (repeatable)', valueHint: 'PATH' },
    'deny-read': { type: 'string', description: 'path the agent may not read (repeatable); credentials are always denied', valueHint: 'PATH' },
    'allow-read': { type: 'string', description: 'lift a default read-deny, e.g. ~/.config/gh (repeatable; your agent logins and Celistra\'s dirs stay denied)', valueHint: 'PATH' },
    'allow-unix-sockets': { type: 'boolean', description: 'let the agent create unix sockets (Docker, ssh-agent, D-Bus become reachable); refused by default' },
    approve: { type: 'string', description: "requests that need a person, e.g. 'Bash(git push:*)' (repeatable; docs/approvals.md)", valueHint: 'PATTERN' },
    'auto-allow': { type: 'boolean', description: 'approval requests no --approve pattern matches are allowed by rule' },
    'auto-deny': { type: 'boolean', description: 'approval requests no --approve pattern matches are denied by rule' },
    'allow-terminal': { type: 'string', description: 'let the agent set titles, write the clipboard (never read it) or notify, in terminals attached to it: title,clipboard,notify (sanitized)', valueHint: 'LIST' },
    'max-procs': { type: 'string', description: `most tasks (processes and threads) the agent may hold at once, or unlimited (default ${DEFAULT_MAX_PROCS})`, valueHint: 'N' },
    memory: { type: 'string', description: 'memory limit, e.g. 512M or 2G (needs a memory cgroup; the agent is OOM-killed past it)', valueHint: 'SIZE' },
    cpu: { type: 'string', description: 'CPU limit in CPUs, e.g. 1.5 (needs a cpu cgroup)', valueHint: 'N' },
    json: { type: 'boolean', description: 'print the new agent as JSON' },
    command: { type: 'positional', required: false, description: "the command as one string: 'claude --print \"...\"'" },
  },
  run: ({ args, rawArgs }) =>
    runCommand(async () => {
      let argv = commandAfterDashes(rawArgs);
      const positionals = (args._ ?? []).map(String);
      if (argv.length === 0) {
        if (positionals.length === 1) argv = splitCommandLine(positionals[0]!);
        else if (positionals.length > 1) throw new CelistraError('E_USAGE', 'give the command after `--`, or as one quoted string', USAGE);
      }
      if (argv.length === 0) throw new CelistraError('E_USAGE', 'no command given', USAGE);
      if (!args.workspace && !args.worktree) throw new CelistraError('E_USAGE', '--workspace (or --worktree) is required', USAGE);
      if (args.workspace && args.worktree) throw new CelistraError('E_USAGE', 'give --workspace or --worktree, not both');
      if (args['auto-allow'] && args['auto-deny']) throw new CelistraError('E_USAGE', 'give --auto-allow or --auto-deny, not both');
      const approve = repeatedFlag(rawArgs, 'approve');
      const approvals =
        approve.length || args['auto-allow'] || args['auto-deny'] ? { ask: approve, otherwise: args['auto-allow'] ? 'allow' : args['auto-deny'] ? 'deny' : 'person' } : undefined;
      const env: Record<string, string> = {};
      for (const file of repeatedFlag(rawArgs, 'env-file')) Object.assign(env, parseEnvFile(resolve(file)));
      for (const assignment of repeatedFlag(rawArgs, 'env')) {
        const [key, value] = parseEnvAssignment(assignment);
        env[key] = value;
      }
      const client = new DaemonClient(celistraPaths());
      const { agent } = await client.call<{ agent: AgentSummary }>('POST', '/v1/agents', {
        name: args.name,
        argv,
        backend: args.backend,
        preset: args.preset,
        worktree: args.worktree,
        repo: args.worktree ? process.cwd() : undefined,
        workspace: args.workspace ? resolve(args.workspace) : undefined,
        autoRestart: args['auto-restart'] === true,
        network: args.net,
        unixSockets: args['allow-unix-sockets'] ? 'allow' : 'deny',
        allowWrite: pathsForDaemon(repeatedFlag(rawArgs, 'allow-write')),
        denyRead: pathsForDaemon(repeatedFlag(rawArgs, 'deny-read')),
        allowRead: pathsForDaemon(repeatedFlag(rawArgs, 'allow-read')),
        approvals,
        env: Object.keys(env).length ? env : undefined,
        terminalAllow: args['allow-terminal'] || undefined,
        maxProcs: args['max-procs'] || undefined,
        memory: args.memory || undefined,
        cpu: args.cpu || undefined,
        cols: process.stdout.columns,
        rows: process.stdout.rows,
      });
      if (agent.unsandboxed) process.stderr.write(`celistra: WARNING: agent ${agent.name} runs UNSANDBOXED (--backend none): it can write anywhere you can\n`);
      if (args.json) process.stdout.write(`${JSON.stringify(agent, null, 2)}\n`);
      else process.stdout.write(`${agent.name}: running (pid ${agent.pid}, backend ${agent.backend}${agent.preset ? `, preset ${agent.preset}` : ''}; ${describeLimits(agent.limits)})\n`);
    }),
});

/** The daemon has its own working directory: relative paths are resolved here; `~/` ones are the daemon's to expand (same user). */
function pathsForDaemon(paths: string[]): string[] | undefined {
  if (paths.length === 0) return undefined;
  return paths.map((p) => (p === '~' || p.startsWith('~/') ? p : resolve(p)));
}
