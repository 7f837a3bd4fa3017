import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { ensurePrivateDir } from '../fs/private-dir.js';
import { chmodSync, existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { AgentStore } from './agent-store.js';
import { CelistraError } from '../policy/errors.js';
import type { CelistraPaths } from '../policy/paths.js';
import type { RestartPolicy } from './restart-policy.js';
import { Supervisor } from './supervisor.js';
import { createAttachHandler } from './attach.js';
import { acquireDaemonLock } from './lock.js';
import { MAX_SOCKET_PATH } from '../holder/launch.js';
import { createRouter } from './routes.js';
import { createFleetStream } from './fleet-stream.js';
import { createEventStream } from './events-stream.js';
import { openAuditLog } from '../audit/index.js';
import { startDenialCollector, type DenialCollectionStatus, type DenialCollector } from './denial-collector.js';
import { KernelAuditMarker } from './kernel-audit-marker.js';
import { ApprovalQueue } from '../approvals/queue.js';
import { ApprovalStore } from '../approvals/store.js';
import { createApprovalStream } from './approval-routes.js';
import { loadPushConfig } from '../approvals/push.js';
import { startPushReceiver, type PushReceiver } from '../approvals/push-receiver.js';
import { startDashboard, type Dashboard } from './dashboard/server.js';
import { DEFAULT_DASHBOARD_PORT, loadDashboardConfig } from './dashboard/config.js';
import { GitWorkerPool } from './git-worker-pool.js';
import { DiffStatTracker } from './diff-stat-tracker.js';
import type { DiffCounts } from './diff-stat.js';

export const DAEMON_VERSION = '0.1.0';
export const DEFAULT_SCROLLBACK_KB = 64;
/** Git worker threads: one for the fleet's diff stats, one kept for a person's diff or pull. */
const GIT_WORKERS = 2;

export interface DaemonOptions {
  paths: CelistraPaths;
  scrollbackKb?: number;
  restartPolicy?: RestartPolicy;
  /**
   * Switch kernel audit on (host-wide) if it is off, so that Landlock denials are logged,
   * and back off when the daemon stops. Only on explicit request (docs/audit.md).
   */
  enableKernelAudit?: boolean;
  /** The browser dashboard's port (0: any free port; default: dashboard.json's, else 33120), or 'off'. */
  dashboardPort?: number | 'off';
  /** The address it binds (default: dashboard.json's, else 127.0.0.1). */
  dashboardHost?: string;
  /** A running agent's diff stat is measured again at most this often (default 5 s; diff-stat-tracker.ts). */
  diffStatIntervalMs?: number;
  /** Where the daemon's one-line notices go (default: stderr). */
  log?: (line: string) => void;
  /**
   * A client asked the daemon to stop (`POST /v1/shutdown`), after its agents were ended
   * if it asked for that; the process running the daemon calls stop() and exits.
   */
  onStopRequested?: () => void;
}

export interface RunningDaemon {
  socketPath: string;
  supervisor: Supervisor;
  /** The dashboard's URL (without a login), or why there is none. */
  dashboard: Dashboard['status'];
  /** Whether sandbox denials are being collected, and if not, why. */
  denials(): DenialCollectionStatus;
  /** Graceful stop: the API goes away, agents keep running in their holders. */
  stop(): Promise<void>;
}

export function socketPath(paths: CelistraPaths): string {
  return join(paths.runtimeDir, 'daemon.sock');
}

export async function startDaemon(opts: DaemonOptions): Promise<RunningDaemon> {
  const { paths } = opts;
  // The runtime dir holds the socket and the holders' sockets.
  ensurePrivateDir(paths.runtimeDir);
  const lock = acquireDaemonLock(paths.runtimeDir);
  let store: AgentStore | undefined;
  let server: Server | undefined;
  let denialCollector: DenialCollector | undefined;
  let approvalStore: ApprovalStore | undefined;
  let push: PushReceiver | undefined;
  let dashboard: Dashboard | undefined;
  try {
    // A malformed dashboard.json stops the start before any agent is touched, saying why.
    const dashboardConfig = loadDashboardConfig(paths.configDir);
    store = new AgentStore(paths.stateDir);
    const scrollbackBytes = Math.round((opts.scrollbackKb ?? DEFAULT_SCROLLBACK_KB) * 1024);
    const audit = openAuditLog({ stateDir: paths.stateDir });
    approvalStore = new ApprovalStore(paths.stateDir);
    const approvals = new ApprovalQueue(paths, approvalStore, audit);
    // Host git for tasks (diff, pull, the fleet's diff stats) runs in worker threads, never on this loop.
    const gitPool = new GitWorkerPool({ size: GIT_WORKERS });
    let diffStats: DiffStatTracker | undefined;
    const supervisor = new Supervisor({
      paths,
      store,
      scrollbackBytes,
      restartPolicy: opts.restartPolicy,
      audit,
      approvals,
      onOutput: (agent) => diffStats?.outputMoved(agent),
    });
    await supervisor.recover();
    approvals.finishRecovery();
    // Push to a phone, when notify.json asks for it (docs/approvals.md, "Push").
    const pushConfig = loadPushConfig(paths.configDir);
    if (pushConfig) push = await startPushReceiver(pushConfig, approvals, audit);

    const sock = socketPath(paths);
    if (Buffer.byteLength(sock) > MAX_SOCKET_PATH) {
      throw new CelistraError('E_DAEMON', `the socket path ${sock} is longer than unix sockets allow (${MAX_SOCKET_PATH} bytes)`, 'set XDG_RUNTIME_DIR to a shorter directory');
    }
    // The lock is ours, so a socket file left here belongs to a dead daemon.
    if (existsSync(sock)) rmSync(sock, { force: true });
    const startedAt = Date.now();
    const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
    const collector = await startDenialCollector({
      agents: () => supervisor.agentProcesses(),
      record: (agent, data) => supervisor.audit('denial', agent, data),
      enableKernelAudit: opts.enableKernelAudit,
      auditMarker: new KernelAuditMarker(join(paths.runtimeDir, 'kernel-audit-enabled.pid')),
      log,
    });
    denialCollector = collector;
    const denialStatus = collector.status();
    log(`celistrad: sandbox denials: ${denialStatus.reason}`);
    // A variable, not a literal: the status endpoint spreads it, and the getter keeps it live.
    const info = {
      version: DAEMON_VERSION,
      pid: process.pid,
      startedAt,
      socketPath: sock,
      scrollbackBytes,
      get denials() {
        return collector.status();
      },
      get dashboard() {
        return dashboard?.status() ?? null;
      },
    };
    let shuttingDown = false;
    const requestStop = async (withAgents: boolean) => {
      if (shuttingDown) return;
      shuttingDown = true;
      if (withAgents) await supervisor.stopAll();
      // After the answer has gone out.
      setImmediate(() => opts.onStopRequested?.());
    };
    const events = createEventStream(audit);
    // The fleet stream pushes an agent whose stat changed: the stat is part of its row.
    const statListeners = new Set<(agent: string) => void>();
    const stats = new DiffStatTracker({
      compute: (workspace) => gitPool.run<DiffCounts | null>({ op: 'stat', workspace }, [workspace], 'background'),
      workspaceOf: (agent) => (supervisor.has(agent) ? supervisor.describe(agent).workspace : undefined),
      publish: (agent, stat) => {
        events.publishDiffStat(agent, stat);
        for (const listener of statListeners) listener(agent);
      },
      intervalMs: opts.diffStatIntervalMs,
      // One background git at a time leaves the other worker to a person's diff or pull.
      concurrency: Math.max(1, GIT_WORKERS - 1),
    });
    diffStats = stats;
    // A run's end or start changes what its task holds, and a pull its base: measured
    // again at once. A pull from a terminal reaches here when its spooled event is taken
    // in, which any read of the log does (the dashboard's activity feed polls it); the
    // task's agent is the agent of the task's name, as the pull route takes it.
    const unsubscribeStats = audit.subscribe((row) => {
      if (row.agent && (row.type === 'exit' || row.type === 'restart' || row.type === 'spawn' || row.type === 'pull')) stats.refreshNow(row.agent);
    });
    for (const a of supervisor.list()) stats.get(a.name);
    const route = createRouter(supervisor, info, audit, approvals, requestStop, { pool: gitPool, diffStats: stats });
    const attach = createAttachHandler(supervisor);
    const approvalStream = createApprovalStream(approvals);
    const fleetStream = createFleetStream(
      supervisor,
      [
        (listener) => approvals.subscribe((e) => listener(e.approval.agent)),
        (listener) => {
          statListeners.add(listener);
          return () => statListeners.delete(listener);
        },
      ],
      (a) => ({ ...a, diffStat: stats.get(a.name) }),
    );
    const streams = [events, approvalStream, fleetStream];
    const upgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      const stream = streams.find((s) => s.handles(req));
      if (stream) stream.onUpgrade(req, socket, head);
      else attach(req, socket, head);
    };
    const dash = await startDashboard({
      port: opts.dashboardPort ?? dashboardConfig.port ?? DEFAULT_DASHBOARD_PORT,
      host: opts.dashboardHost ?? dashboardConfig.host,
      allowedHosts: dashboardConfig.allowedHosts,
      route: (req, res) => void route(req, res),
      upgrade,
      log,
    });
    dashboard = dash;
    server = createServer({ requestTimeout: 30_000, headersTimeout: 10_000 }, (req, res) => (dash.handlesControl(req) ? dash.control(req, res) : void route(req, res)));
    server.on('upgrade', upgrade);
    server.on('clientError', (_e, socket) => socket.destroy());
    const srv = server;
    const oldMask = process.umask(0o077);
    try {
      await new Promise<void>((resolve, reject) => {
        srv.once('error', reject);
        srv.listen(sock, () => resolve());
      });
    } finally {
      process.umask(oldMask);
    }
    chmodSync(sock, 0o600);
    supervisor.audit('daemon-start', undefined, {
      pid: process.pid,
      agents: supervisor.list().length,
      denials: { collecting: denialStatus.collecting, reason: denialStatus.reason, kernelAuditEnabledByDaemon: denialStatus.kernelAuditEnabledByDaemon },
    });

    const openStore = store;
    let stopped: Promise<void> | undefined;
    return {
      socketPath: sock,
      supervisor,
      dashboard: () => dash.status(),
      denials: () => collector.status(),
      stop() {
        stopped ??= (async () => {
          await collector.stop();
          supervisor.audit('daemon-stop', undefined, { pid: process.pid });
          supervisor.shutdown();
          unsubscribeStats();
          stats.close();
          await gitPool.close();
          events.close();
          approvalStream.close();
          fleetStream.close();
          await push?.close();
          approvals.close();
          await dash.close();
          srv.closeAllConnections();
          await new Promise<void>((resolve) => srv.close(() => resolve()));
          rmSync(sock, { force: true });
          openStore.close();
          approvalStore?.close();
          audit.close();
          lock.release();
        })();
        return stopped;
      },
    };
  } catch (e) {
    // It may have switched kernel audit on (opt-in) and runs a reader: undo both.
    await denialCollector?.stop();
    await dashboard?.close();
    server?.close();
    await push?.close();
    store?.close();
    approvalStore?.close();
    lock.release();
    throw e;
  }
}
