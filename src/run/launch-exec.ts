import type { LaunchPlan } from '../backends/backend.js';
import { emitBeforeExec } from './before-exec-event.js';
import { CelistraError } from '../policy/errors.js';
import { isTerminal } from './is-terminal.js';
import type { Policy } from '../policy/policy.js';
import type { RunAudit } from './audit.js';
import { loadEmptyStdin, loadExecReplacing } from '../backends/landlock/native-addon.js';
import { landlockProbeCachePath } from '../backends/landlock/probe-cache.js';

/**
 * A piped `celistra run` under the Landlock backend does not spawn celistra-exec and wait
 * in Node: it hands its process over (native/src/exec-replace.c). The helper starts in a
 * vfork'd child, and this process execs into the helper's waiter mode, which keeps the pid
 * the caller knows. That saves Node's child-process machinery and Node's teardown at the
 * end; freeing Node's memory happens at that exec, while the helper already works. No
 * Node process sits beside the command while it runs. The helper's first process stays
 * outside the fence and does what Node did after the command (exit-report.c): the exit
 * event in this run's audit spool, removing the private TMPDIR, the exit status (128+n
 * for signal n). Signals sent to Celistra's pid reach the waiter, which passes them on to
 * the helper, which passes them on to the command, as Node did.
 *
 * Resolves without exec'ing when it cannot (no addon, an audit spool that cannot be
 * written): the caller then spawns as usual. `emptyStdin`: descriptor 0 is replaced by a
 * pipe at end of file first (stdin was /dev/null, which a root command must not hold). Rejects with E_SPAWN when the exec itself
 * failed. Before its spawn event it chains the spool when due (RunAudit.chainSpoolIfDue),
 * since no Node code runs after the command on this path.
 */
export async function execIntoHelper(plan: LaunchPlan, policy: Policy, argv: string[], audit: RunAudit, agent: string, emptyStdin = false): Promise<void> {
  if (plan.backend !== 'landlock') return;
  // The command inherits descriptors 0–2 as they are here: never the user's terminal,
  // which the caller relays instead (stdio-kind.ts). Checked again, as a fence, not assumed.
  const terminal = [0, 1, 2].find(isTerminal);
  if (terminal !== undefined) throw new CelistraError('E_SPAWN', `refusing to hand the fenced command the terminal on descriptor ${terminal}`, 'a terminal is relayed, never handed over: this is a bug in Celistra');
  const exec = loadExecReplacing();
  if (!exec) return;
  // stdin from /dev/null as root (stdio-kind.ts): the command gets a pipe at end of file.
  const swapStdin = emptyStdin ? loadEmptyStdin() : undefined;
  if (emptyStdin && !swapStdin) return;
  await audit.chainSpoolIfDue();
  const spool = audit.spawnedBeforeExec(plan, policy, argv);
  if (!spool) return;
  // --signals-via-parent: this process becomes the helper's waiter (exec-replace.c), which
  // passes the caller's signals on; the helper must not pass on the terminal's copies too.
  const report = ['--spool', spool, '--audit-agent-json', JSON.stringify(agent), '--started-ms', String(Date.now()), '--remove-tmp', '--probe-cache', landlockProbeCachePath(), '--signals-via-parent'];
  const env = Object.entries(plan.env).flatMap(([k, v]) => (v === undefined ? [] : [`${k}=${v}`]));
  emitBeforeExec();
  try {
    swapStdin?.();
    exec(plan.file, [plan.file, ...report, ...plan.args], env, plan.cwd);
  } catch (e) {
    void audit.exited({ status: 126, code: null, signal: null });
    throw new CelistraError('E_SPAWN', `could not start ${plan.file}: ${(e as Error).message}`);
  }
}

