import type { LaunchPlan } from './backend.js';
import type { ExitResult } from './launch.js';
import type { CelistraPaths } from './paths.js';
import type { Policy } from './policy.js';
import type { AuditLog } from './audit/index.js';

/**
 * The audit trail of one `celistra run`: spawn (and `unsandboxed` for --backend none)
 * once the child exists, exit when it ends. The log is opened only after the child has
 * started, so loading SQLite overlaps the command instead of delaying it.
 */
export class RunAudit {
  private log?: Promise<AuditLog>;
  private startedAt = Date.now();

  constructor(
    private readonly paths: CelistraPaths,
    private readonly agent: string,
  ) {}

  spawned(plan: LaunchPlan, policy: Policy, argv: string[], pid: number): void {
    this.startedAt = Date.now();
    this.log = import('./audit/index.js').then((audit) => {
      const log = audit.openAuditLog({ stateDir: this.paths.stateDir });
      log.record({
        type: 'spawn',
        agent: this.agent,
        data: {
          command: argv,
          workspace: policy.workspace,
          ...(policy.git ? { branch: policy.git.branch } : {}),
          backend: plan.backend,
          policy: audit.summarizePolicy(policy),
          env: audit.redactEnv(plan.env),
          pid,
          via: 'run',
        },
      });
      if (plan.backend === 'none') {
        log.record({ type: 'unsandboxed', agent: this.agent, data: { command: argv, workspace: policy.workspace, via: 'run' } });
      }
      return log;
    });
  }

  async exited(result: ExitResult): Promise<void> {
    const log = await this.log;
    if (!log) return;
    log.record({ type: 'exit', agent: this.agent, data: { code: result.code, signal: result.signal, durationMs: Date.now() - this.startedAt } });
    log.close();
  }
}
