import { mkdirSync, readlinkSync } from 'node:fs';
import { CelistraError } from '../policy/errors.js';
import { celistraPaths } from '../policy/paths.js';
import { buildPolicy } from '../policy/policy.js';
import { resolvePreset } from '../policy/presets/default.js';
import { taskName } from '../daemon/task-name.js';
import { parseBackendChoice, planLaunch } from '../run/backend-selection.js';
import { runInTerminal, runPiped } from '../run/launch.js';
import { createPrivateTmp, removePrivateTmp } from '../run/private-tmp.js';
import { RunAudit } from '../run/audit.js';
import { execIntoHelper } from '../run/launch-exec.js';
import { guardAgainstOrphans, type OrphanGuard } from '../run/orphans.js';
import { isTerminal } from '../run/is-terminal.js';
import { leaveTerminalsAlone, survivesTerminalHangup } from '../run/terminal-exit.js';
import { prepareStdioRelay } from '../run/stdio-relay.js';
import { STDIO_NAMES, needsRelay, stdioRoutes, type StdioRoutes } from '../run/stdio-kind.js';
import { runLimits, type RunLimits } from '../run/limits.js';
import { HELPER_EXIT } from '../backends/landlock/helper-exit-codes.js';
import { forgetLandlockProbe } from '../backends/landlock/probe-cache.js';
import { gitGrantsFor } from '../worktree/grants.js';
import { findWorktree } from '../worktree/lifecycle.js';
import { adoptionNotice } from '../worktree/adopt.js';
import { recordedCheckout, releaseCheckout, takeCheckout, type Checkout } from '../worktree/lease.js';
import type { WorktreeRecord } from '../worktree/record.js';
import type { RunArgs } from './run-flags.js';

/**
 * `--no-NAME` on a string option reads as the word "false" wherever the value is shown
 * or looked up (`--no-net` → `--net must be on or off, not "false"`), as it always has.
 */
function given(value: string | false | undefined): string | undefined {
  return value === false ? 'false' : value;
}

function unlessNegated(value: string | false | undefined): string | undefined {
  return value === false ? undefined : value;
}

/**
 * The body of `celistra run`, shared by the fast path (run-entry.ts, no citty) and the
 * full CLI (run.ts): fence one command to its workspace, record it in the audit log,
 * and return its exit status.
 */
export async function runFenced({ flags, command: argv }: RunArgs): Promise<number> {
  if (argv.length === 0) throw new CelistraError('E_USAGE', 'no command given', 'usage: celistra run --workspace DIR -- CMD [ARGS...]');
  if (flags.workspace && flags.worktree) throw new CelistraError('E_USAGE', 'give --workspace or --worktree, not both');
  const workspace = flags.worktree ? findWorktree(flags.worktree).path : flags.workspace;
  if (!workspace) throw new CelistraError('E_USAGE', '--workspace is required', 'usage: celistra run --workspace DIR -- CMD [ARGS...]');
  const net = flags.net;
  if (net !== 'on' && net !== 'off') throw new CelistraError('E_USAGE', `--net must be on or off, not "${given(net)}"`);
  const backend = parseBackendChoice(given(flags.backend));

  const paths = celistraPaths();
  // Celistra's own dirs must exist before the policy is built: a missing one is not
  // read-denied, and a writable root around it (--allow-write ~/.local) is not refused.
  for (const own of [paths.stateDir, paths.configDir]) mkdirSync(own, { recursive: true, mode: 0o700 });
  const tmpDir = createPrivateTmp(paths, 'run');
  let adoptedNow: WorktreeRecord | undefined;
  let checkout: Checkout | undefined;
  let limits: RunLimits | undefined;
  try {
    const policy = buildPolicy({
      workspace,
      allowWrite: flags['allow-write'],
      denyRead: flags['deny-read'],
      allowRead: flags['allow-read'],
      network: net,
      unixSockets: flags['allow-unix-sockets'] ? 'allow' : 'deny',
      preset: resolvePreset(given(flags.preset), argv),
      tmpDir,
      paths,
      git: gitGrantsFor(workspace, (record) => {
        adoptedNow = record;
        process.stderr.write(adoptionNotice(record));
      }),
    });
    const plan = planLaunch(backend, policy, argv, process.env as Record<string, string>);
    // Resource limits (run/limits.ts): a wrapped plan is spawned, never handed over.
    limits = runLimits({ maxProcs: unlessNegated(flags['max-procs']), memory: unlessNegated(flags.memory), cpu: unlessNegated(flags.cpu) }, plan);
    if (plan.backend === 'none') {
      process.stderr.write('celistra: WARNING: running UNSANDBOXED (--backend none): the command can write anywhere you can\n');
    }
    if (flags.verbose) process.stderr.write(`celistra: backend ${plan.backend}; preset ${policy.preset ?? 'none'}; ${plan.notes.join('; ')}\n`);
    // Lifted credentials are the user's choice, but never a silent one.
    for (const p of flags['allow-read'] ?? []) process.stderr.write(`celistra: note: the command may read ${p} (--allow-read lifts its default read-deny)\n`);
    // A guarantee the backend declares for this machine that this policy's shape undoes: said on every run.
    for (const [guarantee, why] of Object.entries(plan.degraded ?? {})) process.stderr.write(`celistra: warning: ${guarantee} is not held for this run: ${why}\n`);
    const interactive = isTerminal(0) && isTerminal(1);
    // Node's restore of the terminal at exit would undo what others set meanwhile (run/terminal-exit.ts).
    if (!interactive) leaveTerminalsAlone();
    else survivesTerminalHangup();
    // `--no-name` and `--no-worktree` name nothing, so the default applies (citty's reading
    // recorded the agent as null).
    const agent = unlessNegated(flags.name) ?? unlessNegated(flags.worktree) ?? taskName(policy.workspace, policy.git?.branch);
    const audit = new RunAudit(paths, agent);
    if (adoptedNow) audit.adopted(adoptedNow);
    // A task worktree is leased to this run (worktree/lease.ts). After the command, the
    // submodule names it may have added are pinned (and an adopted worktree's HEAD is
    // detached again), so this process must outlive the command there: no hand-over.
    checkout = recordedCheckout(policy.git);
    if (checkout) takeCheckout(checkout, process.pid, paths);
    // A file stdio was redirected from or to, or the user's terminal, reaches the command
    // through a pipe this process relays (docs/security.md, "Inherited stdio"); an
    // interactive run has Celistra's own pty instead.
    const routes = !interactive && relaysStdio(plan.backend) ? stdioRoutes() : undefined;
    const relay = routes && needsRelay(routes) ? routes : undefined;
    if (relay && flags.verbose) process.stderr.write(`celistra: relaying ${relayedNames(relay)} through a pipe (a redirected file or a terminal is never handed to the command)\n`);
    // Returns only when the run cannot hand itself over to celistra-exec; a relayed run
    // must not (the relay is this process), nor one whose limits need the wrapper.
    if (!interactive && !relay && !checkout && !limits.wrapped) await execIntoHelper(plan, policy, argv, audit, agent, routes?.routes[0] === 'empty');
    const passOn = relay ?? (routes?.routes[0] === 'empty' ? routes : undefined);
    // Landlock: this process is the subreaper of last resort if the helper alone dies
    // (run/orphans.ts). What it left is ended once the helper is reaped: such a process
    // may hold the relayed stdout and keep writing, and the relay would wait on it.
    const orphans = plan.backend === 'landlock' ? guardAgainstOrphans() : undefined;
    let leftBehind = 0;
    const hooks = { onSpawn: (pid: number) => audit.spawned(plan, policy, argv, pid), onReaped: () => void (leftBehind = endOrphansSaying(orphans)) };
    const result = interactive ? await runInTerminal(limits.plan, hooks) : await runPiped(limits.plan, hooks, passOn && prepareStdioRelay(passOn));
    if (leftBehind) process.stderr.write(`celistra: ended ${leftBehind} process(es) the command left running after its sandbox helper was gone\n`);
    limits.end();
    await audit.exited(result);
    // The helper could not set up the fence (its 120–124 statuses): the machine may have
    // changed since its probe was cached (user namespaces switched off, say).
    if (plan.backend === 'landlock' && result.code !== null && result.code >= HELPER_EXIT.usage && result.code <= HELPER_EXIT.ruleset) forgetLandlockProbe();
    return result.status;
  } finally {
    limits?.end();
    if (checkout) releaseCheckout(checkout, process.pid, paths);
    removePrivateTmp(tmpDir);
  }
}

/**
 * The Linux backends relay; seatbelt's profile has not been checked against a file
 * descriptor from outside (declared unchecked), and `none` fences nothing.
 */
function relaysStdio(backend: string): boolean {
  return backend === 'landlock' || backend === 'bwrap';
}

/** "stdin (the terminal /dev/pts/3), stdout": what --verbose says is relayed. */
function relayedNames(relay: StdioRoutes): string {
  return STDIO_NAMES.flatMap((name, fd) => {
    if (relay.routes[fd] !== 'relay') return [];
    return [relay.terminals?.[fd] ? `${name} (the terminal ${terminalName(fd)})` : name];
  }).join(', ');
}

function terminalName(fd: number): string {
  try {
    return readlinkSync(`/proc/self/fd/${fd}`);
  } catch {
    return `on descriptor ${fd}`;
  }
}

/** The orphans ended (run/orphans.ts); a failure to list them is said, never thrown from the child's exit handler. */
function endOrphansSaying(orphans: OrphanGuard | undefined): number {
  try {
    return orphans?.end() ?? 0;
  } catch (e) {
    process.stderr.write(`celistra: warning: could not end what the command may have left running: ${(e as Error).message}\n`);
    return 0;
  }
}
