import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { loadNativeFacts } from '../backends/landlock/native-addon.js';
import { DenialAggregator, DEFAULT_DENIAL_WINDOW_MS, DEFAULT_MAX_KEYS_PER_AGENT } from '../audit/denial-aggregation.js';
import { DenialAttribution, type AgentProcesses } from '../audit/denial-attribution.js';
import { LandlockEventAssembler, type LandlockDenial, type LandlockEvent } from '../audit/denial-events.js';
import { parseReaderLine } from '../audit/denial-records.js';
import { auditReaderPath, holdsCapability, kernelAuditState, readerBuilt, setKernelAudit } from './denial-kernel-audit.js';
import type { KernelAuditMarker } from './kernel-audit-marker.js';

/** What the daemon says about denial collection (status API, daemon-start event, log). */
export interface DenialCollectionStatus {
  collecting: boolean;
  /** Why not, or from where. */
  reason: string;
  /** The daemon switched kernel audit on (--enable-kernel-audit) and switches it back on stop. */
  kernelAuditEnabledByDaemon: boolean;
  /** Denial events written to the audit log (first occurrences and repeat counts). */
  recorded: number;
  /** Landlock denials of domains that lead to none of the daemon's agents (other programs, `celistra run`). */
  unattributed: number;
  /** Times the kernel dropped records because the reader fell behind. */
  overruns: number;
}

export interface DenialCollectorOptions {
  /** The daemon's running agents and their helper/holder pids, asked at each domain's first denial. */
  agents: () => AgentProcesses[];
  record: (agent: string, data: Record<string, unknown>) => void;
  /** Explicit opt-in to switch kernel audit on for the whole host (restored on stop). */
  enableKernelAudit?: boolean;
  /** Where a daemon that switched audit on says so, for the next one if it is killed. */
  auditMarker?: KernelAuditMarker;
  windowMs?: number;
  maxKeysPerAgent?: number;
  readerPath?: string;
  /** Where a change of state after start (the reader dying) is said, once. */
  log?: (line: string) => void;
}

/** Records without a SYSCALL record are complete after this long (no later record comes). */
const SETTLE_MS = 50;
const READY_TIMEOUT_MS = 3_000;
/**
 * A command can be refused before the launch that started it has returned its pid to
 * the supervisor: an unmatched denial is tried again for this long before it counts as
 * another program's.
 */
const ATTRIBUTION_RETRY_MS = 200;
const ATTRIBUTION_PATIENCE_MS = 5_000;
/** Denials of other programs must not pile up in memory while they wait. */
const MAX_UNMATCHED = 10_000;

export interface DenialCollector {
  status(): DenialCollectionStatus;
  stop(): Promise<void>;
}

/**
 * Starts collecting Landlock denials, or finds out why it cannot and says so in its
 * status. Never throws: denial collection is an extra, not a reason for the daemon not
 * to start. Never fakes: when it cannot collect, it records nothing.
 */
export async function startDenialCollector(opts: DenialCollectorOptions): Promise<DenialCollector> {
  const readerPath = opts.readerPath ?? auditReaderPath();
  const status: DenialCollectionStatus = { collecting: false, reason: '', kernelAuditEnabledByDaemon: false, recorded: 0, unattributed: 0, overruns: 0 };
  const off = (reason: string): DenialCollector => {
    status.reason = reason;
    return { status: () => ({ ...status }), stop: async () => {} };
  };

  if (process.platform !== 'linux') return off(`not collected on ${process.platform}: only Landlock denials (Linux) are collected`);
  const native = loadNativeFacts();
  if (!native.ok) return off(`not collected: ${native.reason}`);
  if (native.facts.landlock.kernelAbi < 7) return off(`not collected: Landlock ABI ${native.facts.landlock.kernelAbi} cannot log denials (needs ABI 7, Linux 6.15+)`);
  if (!readerBuilt(readerPath)) return off(`not collected: the audit reader is not built (${readerPath} missing); rebuild with: npx node-gyp rebuild --directory native`);
  if (!holdsCapability('audit-read')) {
    return off('not collected: reading kernel audit records needs CAP_AUDIT_READ (run the daemon as root or grant it the capability)');
  }

  let enabledByUs = false;
  if (holdsCapability('audit-control')) {
    let state;
    try {
      state = await kernelAuditState(readerPath);
    } catch (e) {
      return off(`not collected: cannot read the kernel audit state: ${(e as Error).message}`);
    }
    const leftBy = opts.auditMarker?.leftBy();
    if (leftBy !== undefined && state.enabled === 1) {
      const who = leftBy ? `daemon pid ${leftBy}` : 'an earlier daemon';
      if (opts.enableKernelAudit) {
        // Still wanted on: this daemon owns the switch now and turns it off on stop.
        opts.auditMarker!.mark();
        enabledByUs = true;
        status.kernelAuditEnabledByDaemon = true;
        opts.log?.(`celistrad: kernel audit was left on by ${who}, which ended without switching it back; this daemon takes it over`);
      } else {
        try {
          await setKernelAudit(readerPath, 0);
          opts.auditMarker!.clear();
          state = { ...state, enabled: 0 };
          opts.log?.(`celistrad: switched kernel audit back off: ${who} enabled it (--enable-kernel-audit) and ended without switching it back`);
        } catch (e) {
          opts.log?.(`celistrad: kernel audit was left on by ${who}, and switching it back off failed: ${(e as Error).message}`);
        }
      }
    } else if (leftBy !== undefined) {
      // Already off (switched by hand, or a reboot): nothing left to undo.
      opts.auditMarker!.clear();
    }
    if (state.enabled === 0) {
      if (!opts.enableKernelAudit) {
        return off('not collected: kernel audit is disabled (enabled=0), so Landlock logs nothing; it is a host-wide switch Celistra does not flip unasked: start the daemon with --enable-kernel-audit (switched back off when it stops), or enable it yourself (auditctl -e 1) and restart the daemon; see docs/audit.md');
      }
      try {
        // Marked first: a daemon killed right after the switch still leaves the mark.
        opts.auditMarker?.mark();
        await setKernelAudit(readerPath, 1);
        enabledByUs = true;
      } catch (e) {
        opts.auditMarker?.clear();
        return off(`not collected: could not enable kernel audit: ${(e as Error).message}`);
      }
      status.kernelAuditEnabledByDaemon = true;
    }
  }

  // Only what we switched on is switched back off: a host that had audit on keeps it.
  const restore = async () => {
    if (!enabledByUs) return;
    enabledByUs = false;
    // The mark stays when switching back fails: the next daemon tries again.
    if (await setKernelAudit(readerPath, 0).then(() => true, () => false)) opts.auditMarker?.clear();
  };

  let started: Awaited<ReturnType<typeof startReader>>;
  try {
    started = await startReader(readerPath);
  } catch (e) {
    await restore();
    status.kernelAuditEnabledByDaemon = false;
    return off(`not collected: ${(e as Error).message}`);
  }
  status.collecting = true;
  status.reason = holdsCapability('audit-control')
    ? 'collecting Landlock denials from the kernel audit read log'
    : 'collecting Landlock denials from the kernel audit read log (kernel audit state unknown without CAP_AUDIT_CONTROL: nothing arrives while it is disabled)';

  const assembler = new LandlockEventAssembler();
  const attribution = new DenialAttribution();
  const aggregator = new DenialAggregator({
    windowMs: opts.windowMs ?? DEFAULT_DENIAL_WINDOW_MS,
    maxKeysPerAgent: opts.maxKeysPerAgent ?? DEFAULT_MAX_KEYS_PER_AGENT,
    emit: ({ agent, data }) => {
      status.recorded++;
      opts.record(agent, data);
    },
  });
  let settleTimer: NodeJS.Timeout | undefined;
  let windowTimer: NodeJS.Timeout | undefined;
  let retryTimer: NodeJS.Timeout | undefined;
  let unmatched: LandlockDenial[] = [];
  /** Domains that ended while some of their denials were still unmatched. */
  const endedWhileUnmatched = new Set<string>();

  const add = (agent: string, d: LandlockDenial) =>
    aggregator.add({ agent, backend: 'landlock', operation: d.blockers.join(','), path: d.path, ts: d.ts, details: denialDetails(d) });

  const retryUnmatched = (final: boolean) => {
    retryTimer = undefined;
    const agents = opts.agents();
    const now = Date.now();
    const still: LandlockDenial[] = [];
    for (const d of unmatched) {
      const agent = attribution.attribute(d, agents);
      if (agent !== undefined) add(agent, d);
      else if (final || now - d.ts > ATTRIBUTION_PATIENCE_MS) status.unattributed++;
      else still.push(d);
    }
    unmatched = still;
    for (const domain of endedWhileUnmatched) {
      if (unmatched.some((d) => d.domain === domain)) continue;
      endedWhileUnmatched.delete(domain);
      attribution.domainEnded(domain);
    }
    afterChange();
  };

  const afterChange = () => {
    if (unmatched.length > 0 && !retryTimer) retryTimer = setTimeout(() => retryUnmatched(false), ATTRIBUTION_RETRY_MS);
    if (aggregator.open && !windowTimer) {
      windowTimer = setTimeout(() => {
        windowTimer = undefined;
        aggregator.closeWindow();
      }, opts.windowMs ?? DEFAULT_DENIAL_WINDOW_MS);
    }
  };

  const handle = (events: LandlockEvent[]) => {
    for (const ev of events) {
      if (ev.kind === 'domain-start') attribution.domainStarted(ev.domain, opts.agents());
      else if (ev.kind === 'domain-end') {
        // Its unmatched denials keep the ancestry they already gathered until they are settled.
        if (unmatched.some((d) => d.domain === ev.domain.domain)) endedWhileUnmatched.add(ev.domain.domain);
        else attribution.domainEnded(ev.domain.domain);
      } else {
        const agent = attribution.attribute(ev.denial, opts.agents());
        if (agent !== undefined) add(agent, ev.denial);
        else if (unmatched.length < MAX_UNMATCHED) unmatched.push(ev.denial);
        else status.unattributed++;
      }
    }
    afterChange();
  };

  const reader = started.child;
  let stopping = false;
  started.setLineHandler((line) => {
    if (stopping) return;
    const parsed = parseReaderLine(line);
    if (parsed.kind === 'overrun') status.overruns++;
    if (parsed.kind !== 'record') return;
    clearTimeout(settleTimer);
    handle(assembler.push(parsed.record));
    if (assembler.hasPending) settleTimer = setTimeout(() => handle(assembler.flush()), SETTLE_MS);
  });
  let stderr = '';
  reader.stderr!.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-2000);
  });
  reader.once('exit', (code, signal) => {
    if (stopping) return;
    status.collecting = false;
    status.reason = `stopped: the audit reader exited (${signal ?? `status ${code}`})${stderr.trim() ? `: ${stderr.trim()}` : ''}`;
    opts.log?.(`celistrad: sandbox denials: ${status.reason}`);
  });

  return {
    status: () => ({ ...status }),
    async stop() {
      if (stopping) return;
      stopping = true;
      reader.kill('SIGTERM');
      handle(assembler.flush());
      retryUnmatched(true);
      aggregator.closeWindow();
      clearTimeout(settleTimer);
      clearTimeout(windowTimer);
      clearTimeout(retryTimer);
      status.collecting = false;
      status.reason = 'stopped with the daemon';
      await restore();
    },
  };
}

function denialDetails(d: LandlockDenial): Record<string, unknown> {
  const details: Record<string, unknown> = { domain: d.domain, blockers: d.blockers };
  if (d.dev !== undefined) details.dev = d.dev;
  if (d.ino !== undefined) details.ino = d.ino;
  if (d.pid !== undefined) details.pid = d.pid;
  if (d.comm !== undefined) details.comm = d.comm;
  if (d.exe !== undefined) details.exe = d.exe;
  if (d.targetPid !== undefined) details.targetPid = d.targetPid;
  if (d.targetComm !== undefined) details.targetComm = d.targetComm;
  return details;
}

/**
 * Runs `celistra-audit read` and waits until it has joined the read-log group. Lines
 * after "ready" go to `onLine`, which the caller may replace once it is set up; until
 * then they are kept.
 */
function startReader(path: string): Promise<{ child: ChildProcess; setLineHandler(h: (line: string) => void): void }> {
  return new Promise((resolve, reject) => {
    const child = spawn(path, ['read'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const early: string[] = [];
    let handler: (line: string) => void = (l) => early.push(l);
    let ready = false;
    let stderr = '';
    const fail = (err: Error) => {
      if (ready) return;
      ready = true;
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(err);
    };
    const timer = setTimeout(() => fail(new Error(`the audit reader did not start within ${READY_TIMEOUT_MS} ms`)), READY_TIMEOUT_MS);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (ready) return handler(line);
      if (line !== 'ready') return;
      ready = true;
      clearTimeout(timer);
      resolve({
        child,
        setLineHandler(h) {
          handler = h;
          for (const l of early.splice(0)) h(l);
        },
      });
    });
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', (e) => fail(new Error(`cannot run the audit reader: ${e.message}`)));
    child.once('exit', (code) => fail(new Error(stderr.trim() || `the audit reader exited with status ${code}`)));
  });
}
