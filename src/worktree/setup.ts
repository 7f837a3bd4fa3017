import { spawn } from 'node:child_process';
import type { LaunchPlan } from '../backends/backend.js';
import { planLaunch } from '../run/backend-selection.js';
import { CelistraError, isCelistraError } from '../policy/errors.js';
import { statusFrom, type ExitResult } from '../run/launch.js';
import { celistraPaths } from '../policy/paths.js';
import { buildPolicy } from '../policy/policy.js';
import { createPrivateTmp, removePrivateTmp } from '../run/private-tmp.js';
import { RunAudit } from '../run/audit.js';
import { gitGrantsFor } from './grants.js';
import type { WorktreeRecord } from './record.js';

/**
 * The setup command (`npm ci`) runs in a tree the user did not necessarily write: with
 * `--base agent/x` it is an agent's commit, and package managers run that tree's
 * lifecycle scripts. So it runs fenced to the new worktree exactly as `celistra run
 * --worktree NAME` would (same policy, git grants, backend choice and audit), and
 * without a sandbox backend it does not run at all unless the user says so.
 */
export interface SetupOptions {
  /**
   * When no sandbox backend can fence the command, run it with --backend none instead of
   * refusing (the user passed --setup-unsandboxed): warned, and audited as unsandboxed.
   */
  unsandboxed?: boolean;
  progress?: (line: string) => void;
}

export async function runWorktreeSetup(record: WorktreeRecord, command: string, opts: SetupOptions = {}): Promise<void> {
  const paths = celistraPaths();
  const tmpDir = createPrivateTmp(paths, `setup-${record.name}`);
  try {
    const policy = buildPolicy({ workspace: record.path, tmpDir, paths, git: gitGrantsFor(record.path) });
    const argv = ['sh', '-c', command];
    let plan: LaunchPlan;
    try {
      plan = planLaunch('auto', policy, argv, process.env as Record<string, string>);
    } catch (e) {
      if (!isCelistraError(e) || e.code !== 'E_NO_BACKEND') throw e;
      if (!opts.unsandboxed) {
        throw new CelistraError(
          'E_NO_BACKEND',
          `the setup command \`${command}\` was not run: ${e.message}\nthe worktree is kept at ${record.path}`,
          'install bubblewrap (apt-get install -y bubblewrap) or use a kernel with Landlock (`celistra doctor` shows details); if you trust the tree, pass --setup-unsandboxed or run the command there by hand',
        );
      }
      opts.progress?.(`WARNING: no sandbox backend can fence the setup command; running it UNSANDBOXED (--setup-unsandboxed): it can write anywhere you can`);
      plan = planLaunch('none', policy, argv, process.env as Record<string, string>);
    }
    opts.progress?.(`running setup (backend ${plan.backend}): ${command}`);
    const audit = new RunAudit(paths, record.name);
    const result = await runToStderr(plan, (pid) => audit.spawned(plan, policy, argv, pid));
    await audit.exited(result);
    if (result.status !== 0) {
      throw new CelistraError(
        'E_SPAWN',
        `the setup command \`${command}\` failed (exit status ${result.signal ? `signal ${result.signal}` : result.code}); the worktree is kept at ${record.path}`,
        `fix it and run it there with \`celistra run --worktree ${record.name} -- sh -c '...'\`, or remove the worktree with \`celistra worktree rm ${record.name} --force\``,
      );
    }
    opts.progress?.('setup done');
  } finally {
    removePrivateTmp(tmpDir);
  }
}

/**
 * Like runPiped, but the command's output goes to our stderr: `worktree add` keeps its
 * stdout for the worktree's path (or its JSON), which scripts read.
 */
function runToStderr(plan: LaunchPlan, onSpawn: (pid: number) => void): Promise<ExitResult> {
  return new Promise((resolveExit, reject) => {
    const child = spawn(plan.file, plan.args, { env: plan.env, cwd: plan.cwd, stdio: ['ignore', 2, 2] });
    child.once('spawn', () => onSpawn(child.pid!));
    const forward = (sig: NodeJS.Signals) => () => child.kill(sig);
    const handlers = (['SIGTERM', 'SIGHUP', 'SIGINT'] as const).map((sig) => [sig, forward(sig)] as const);
    for (const [sig, h] of handlers) process.on(sig, h);
    const cleanup = () => {
      for (const [sig, h] of handlers) process.off(sig, h);
    };
    child.once('error', (err) => {
      cleanup();
      reject(new CelistraError('E_SPAWN', `could not start the setup command: ${err.message}`));
    });
    child.once('exit', (code, signal) => {
      cleanup();
      resolveExit({ status: statusFrom(code, signal), code, signal });
    });
  });
}
