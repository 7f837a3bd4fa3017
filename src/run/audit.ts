import type { LaunchPlan } from '../backends/backend.js';
import type { ExitResult } from './launch.js';
import type { CelistraPaths } from '../policy/paths.js';
import type { Policy } from '../policy/policy.js';
import type { AuditEventInput } from '../audit/events.js';
import { summarizePolicy } from '../audit/events.js';
import { redactEnv } from '../audit/redaction.js';
import { AuditSpool } from '../audit/spool.js';
import { finishedSpoolFiles } from '../audit/spool-intake.js';

/**
 * Finished spool files that make a `run` chain the spool itself on its way out, when
 * nothing else (the daemon, `history`) has: about one run in this many pays for opening
 * the database, and the spool never grows without bound.
 */
export const SPOOL_INTAKE_THRESHOLD = 64;

/**
 * The audit trail of one `celistra run`: spawn (and `unsandboxed` for --backend none)
 * once the child exists, exit when it ends. Events go to the audit spool (a line per
 * event in a file of our own, see audit/spool.ts), not to SQLite: opening the database
 * costs more than the rest of a fenced `true`. If the spool cannot be written (a full
 * disk, a read-only state dir), the events go through the audit log itself, which
 * buffers, retries and records the loss.
 */
export class RunAudit {
  private spool: AuditSpool | undefined;
  private fallback: Promise<import('../audit/index.js').AuditLog> | undefined;
  /** Monotonic (performance.now()): a wall clock stepped back during the run would make its duration negative. */
  private startedAt = performance.now();

  constructor(
    private readonly paths: CelistraPaths,
    private readonly agent: string,
  ) {}

  spawned(plan: LaunchPlan, policy: Policy, argv: string[], pid: number): void {
    this.startedAt = performance.now();
    this.record({
      type: 'spawn',
      agent: this.agent,
      data: {
        command: argv,
        workspace: policy.workspace,
        ...(policy.git ? { branch: policy.git.branch } : {}),
        backend: plan.backend,
        ...(plan.degraded ? { degraded: Object.keys(plan.degraded) } : {}),
        policy: summarizePolicy(policy),
        env: redactEnv(plan.env),
        pid,
        via: 'run',
      },
    });
    if (plan.backend === 'none') {
      this.record({ type: 'unsandboxed', agent: this.agent, data: { command: argv, workspace: policy.workspace, via: 'run' } });
    }
  }

  /**
   * For a run that exec's into celistra-exec (exit-report.c writes the exit event): the
   * spawn event, with our pid (exec keeps it), in the spool. Returns the spool file, or
   * undefined when the spool cannot be written (then the run spawns and waits instead).
   */
  spawnedBeforeExec(plan: LaunchPlan, policy: Policy, argv: string[]): string | undefined {
    try {
      this.spool ??= AuditSpool.create(this.paths.stateDir);
    } catch {
      return undefined;
    }
    this.spawned(plan, policy, argv, process.pid);
    return this.fallback ? undefined : this.spool.openPath;
  }

  /** A plain linked worktree was adopted for this run (worktree/adopt.ts). */
  adopted(record: { path: string; branch: string; adoptedAdminDir?: string }): void {
    this.record({ type: 'worktree-adopt', agent: this.agent, data: { worktree: record.path, branch: record.branch, adminDir: record.adoptedAdminDir } });
  }

  async exited(result: ExitResult): Promise<void> {
    this.record({ type: 'exit', agent: this.agent, data: { code: result.code, signal: result.signal, durationMs: Math.round(performance.now() - this.startedAt) } });
    try {
      this.spool?.finish();
    } catch {
      // The events are in the file already; intake takes an .open file once we are gone.
    }
    if (this.fallback) (await this.fallback.catch(() => undefined))?.close();
    else await this.chainSpoolIfDue();
  }

  /**
   * Chains the spool when enough finished files wait. exited() does it after the command;
   * a run that exec's into celistra-exec never gets there (the helper writes its exit
   * event), so it calls this before its own spool file exists, and the spool stays
   * bounded on that path too. Either way about one run in SPOOL_INTAKE_THRESHOLD pays.
   */
  async chainSpoolIfDue(): Promise<void> {
    if (finishedSpoolFiles(this.paths.stateDir) >= SPOOL_INTAKE_THRESHOLD) await this.chainSpool();
  }

  private record(e: AuditEventInput): void {
    if (!this.fallback) {
      try {
        this.spool ??= AuditSpool.create(this.paths.stateDir);
        this.spool.record(e);
        return;
      } catch {
        this.fallback = this.openLog();
      }
    }
    // record() never throws; an audit module that fails to load loses the event, never the run.
    this.fallback.then((log) => log.record(e)).catch(() => undefined);
  }

  private async openLog(): Promise<import('../audit/index.js').AuditLog> {
    const audit = await import('../audit/index.js');
    return audit.openAuditLog({ stateDir: this.paths.stateDir });
  }

  /** Opening the log chains the spool (audit-log.ts); closing it writes nothing else. */
  private async chainSpool(): Promise<void> {
    try {
      (await this.openLog()).close();
    } catch {
      // The spool stays for the next reader; the command's outcome does not depend on it.
    }
  }
}
