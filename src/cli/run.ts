import { defineCommand } from 'citty';
import { CelistraError } from '../core/errors.js';
import { celistraPaths } from '../core/paths.js';
import { buildPolicy, type NetworkMode } from '../core/policy.js';
import { parseBackendChoice, planLaunch } from '../core/backend-selection.js';
import { runInTerminal, runPiped } from '../core/launch.js';
import { createPrivateTmp, removePrivateTmp } from '../core/private-tmp.js';
import { RunAudit } from '../core/run-audit.js';
import { execIntoHelper } from '../core/launch-exec.js';
import { fstatSync, mkdirSync } from 'node:fs';
import { basename } from 'node:path';
import { createRequire } from 'node:module';
import { HELPER_EXIT } from '../backends/landlock/helper-exit-codes.js';
import { forgetLandlockProbe } from '../backends/landlock/probe-cache.js';
import { runCommand } from './command.js';
import { commandAfterDashes, repeatedFlag, unknownFlags } from './argv.js';
import { gitGrantsFor } from '../core/worktree-git.js';
import { findWorktree } from '../core/worktrees.js';

const runArgs = {
  workspace: { type: 'string', description: 'directory the command may write (required unless --worktree)', valueHint: 'DIR' },
  worktree: { type: 'string', description: 'task worktree NAME (celistra worktree add) of the current repository, as the workspace', valueHint: 'NAME' },
  backend: { type: 'string', description: 'auto | landlock | bwrap | seatbelt | none (none = UNSANDBOXED)', default: 'auto' },
  preset: { type: 'string', description: 'agent preset: claude | codex | aider' },
  'allow-write': { type: 'string', description: 'extra writable directory (repeatable)', valueHint: 'PATH' },
  'deny-read': { type: 'string', description: 'path the command may not read (repeatable); credentials (~/.ssh, ~/.aws, ~/.gnupg, ~/.config/gh, ~/.netrc, ~/.git-credentials, ~/.kube, cloud and agent logins) are always denied', valueHint: 'PATH' },
  net: { type: 'string', description: 'network: on | off', default: 'on' },
  'allow-unix-sockets': { type: 'boolean', description: 'let the command create unix sockets (Docker, ssh-agent, D-Bus become reachable); refused by default' },
  name: { type: 'string', description: 'name recorded in the audit log (default: the worktree name or the workspace folder name)' },
  verbose: { type: 'boolean', description: 'print the backend and plan on stderr' },
} as const;

export default defineCommand({
  meta: {
    name: 'run',
    description: 'Run one command fenced to its workspace: it may write only there and in its private TMPDIR.',
  },
  args: runArgs,
  run: ({ args, rawArgs }) =>
    runCommand(async () => {
      const argv = commandAfterDashes(rawArgs);
      const unknown = unknownFlags(rawArgs, Object.keys(runArgs));
      if (unknown.length) throw new CelistraError('E_USAGE', `unknown option --${unknown[0]}`, 'celistra run --help lists the options; the command goes after --');
      if (argv.length === 0) throw new CelistraError('E_USAGE', 'no command given', 'usage: celistra run --workspace DIR -- CMD [ARGS...]');
      if (args.workspace && args.worktree) throw new CelistraError('E_USAGE', 'give --workspace or --worktree, not both');
      const workspace = args.worktree ? findWorktree(args.worktree).path : args.workspace;
      if (!workspace) throw new CelistraError('E_USAGE', '--workspace is required', 'usage: celistra run --workspace DIR -- CMD [ARGS...]');
      const net = args.net as NetworkMode;
      if (net !== 'on' && net !== 'off') throw new CelistraError('E_USAGE', `--net must be on or off, not "${args.net}"`);
      const backend = parseBackendChoice(args.backend);

      const paths = celistraPaths();
      // Celistra's own dirs must exist before the policy is built: a missing one is not
      // read-denied, and a writable root around it (--allow-write ~/.local) is not refused.
      for (const own of [paths.stateDir, paths.configDir]) mkdirSync(own, { recursive: true, mode: 0o700 });
      const tmpDir = createPrivateTmp(paths, 'run');
      try {
        const policy = buildPolicy({
          workspace,
          allowWrite: repeatedFlag(rawArgs, 'allow-write'),
          denyRead: repeatedFlag(rawArgs, 'deny-read'),
          network: net,
          unixSockets: args['allow-unix-sockets'] ? 'allow' : 'deny',
          preset: args.preset,
          tmpDir,
          paths,
          git: gitGrantsFor(workspace),
        });
        const plan = planLaunch(backend, policy, argv, process.env as Record<string, string>);
        if (plan.backend === 'none') {
          process.stderr.write('celistra: WARNING: running UNSANDBOXED (--backend none): the command can write anywhere you can\n');
        }
        if (args.verbose) process.stderr.write(`celistra: backend ${plan.backend}; ${plan.notes.join('; ')}\n`);
        // A guarantee the backend declares for this machine that this policy's shape undoes: said on every run.
        for (const [guarantee, why] of Object.entries(plan.degraded ?? {})) process.stderr.write(`celistra: warning: ${guarantee} is not held for this run: ${why}\n`);
        const interactive = isTerminal(0) && isTerminal(1);
        const agent = args.name ?? args.worktree ?? basename(policy.workspace);
        const audit = new RunAudit(paths, agent);
        // Returns only when the run cannot hand itself over to celistra-exec.
        if (!interactive) execIntoHelper(plan, policy, argv, audit, agent);
        const hooks = { onSpawn: (pid: number) => audit.spawned(plan, policy, argv, pid) };
        const result = interactive ? await runInTerminal(plan, hooks) : await runPiped(plan, hooks);
        await audit.exited(result);
        // The helper could not set up the fence (its 120–124 statuses): the machine may have
        // changed since its probe was cached (user namespaces switched off, say).
        if (plan.backend === 'landlock' && result.code !== null && result.code >= HELPER_EXIT.usage && result.code <= HELPER_EXIT.ruleset) forgetLandlockProbe();
        return result.status;
      } finally {
        removePrivateTmp(tmpDir);
      }
    }),
});

const LINUX_MEM_MAJOR = 1;

/**
 * Not process.stdin.isTTY, and node:tty only when it can matter: both build on Node's net
 * and stream modules (~3 ms), which a run with piped or redirected stdio never needs.
 */
function isTerminal(fd: number): boolean {
  try {
    const st = fstatSync(fd);
    if (!st.isCharacterDevice()) return false;
    // Linux's memory devices (/dev/null, /dev/zero, ...: major 1) are never terminals;
    // scripts and CI often run with stdin from /dev/null.
    if (process.platform === 'linux' && Math.floor(st.rdev / 256) % 4096 === LINUX_MEM_MAJOR) return false;
  } catch {
    return false;
  }
  const tty = createRequire(import.meta.url)('node:tty') as typeof import('node:tty');
  return tty.isatty(fd);
}
