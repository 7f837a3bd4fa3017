import { CelistraError } from './errors.js';

/**
 * Per-agent resource limits as asked (`--max-procs`, `--memory`, `--cpu`): plain data,
 * persisted with the agent's spec and reused for every restart.
 *
 * Processes default to DEFAULT_MAX_PROCS. Why 4096: the bound counts tasks (threads
 * too: the pids cgroup and RLIMIT_NPROC both do), and a Node agent (~15 threads) running
 * a parallel build or a test runner (hundreds of processes and threads at the peak)
 * stays well below it, while a fork bomb stops at 4096 — far below a machine's pid_max
 * (32768 or 4194304) and a user's usual RLIMIT_NPROC (tens of thousands), so the host
 * and the user's other programs keep working. Memory and CPU are unbounded unless asked.
 */
export interface ResourceLimits {
  /** Tasks the agent's tree may hold at once, or 'unlimited' (an explicit opt-out). */
  maxProcs: number | 'unlimited';
  /** Bytes of memory (RAM; swap too where the kernel accounts it). */
  memoryBytes?: number;
  /** CPUs' worth of time per period (1.5 = one and a half CPUs). */
  cpu?: number;
}

export const DEFAULT_MAX_PROCS = 4096;
/** The exec helper, its PID-namespace init and a shell need a few tasks before the command. */
const MIN_MAX_PROCS = 8;
const MAX_MAX_PROCS = 4_194_304;
const MIN_MEMORY = 16 * 1024 * 1024;

const UNITS: Record<string, number> = { '': 1, B: 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 };

/** What a spawn request or `celistra run`'s flags say; undefined fields take the defaults. */
export interface LimitsRequest {
  maxProcs?: unknown;
  memory?: unknown;
  cpu?: unknown;
}

export function parseLimits(req: LimitsRequest = {}): ResourceLimits {
  const limits: ResourceLimits = { maxProcs: parseMaxProcs(req.maxProcs) };
  if (req.memory !== undefined && req.memory !== null && req.memory !== '') limits.memoryBytes = parseMemory(req.memory);
  if (req.cpu !== undefined && req.cpu !== null && req.cpu !== '') limits.cpu = parseCpu(req.cpu);
  return limits;
}

function parseMaxProcs(v: unknown): number | 'unlimited' {
  if (v === undefined || v === null || v === '') return DEFAULT_MAX_PROCS;
  if (v === 'unlimited') return 'unlimited';
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\d+$/.test(v.trim()) ? Number(v.trim()) : NaN;
  if (!Number.isInteger(n) || n < MIN_MAX_PROCS || n > MAX_MAX_PROCS) {
    throw new CelistraError('E_USAGE', `max-procs must be a whole number from ${MIN_MAX_PROCS} to ${MAX_MAX_PROCS}, or unlimited, not ${JSON.stringify(v)}`);
  }
  return n;
}

/** `2G`, `512M`, `1.5G`, `1048576` (bytes); binary units. */
export function parseMemory(v: unknown): number {
  let bytes = NaN;
  if (typeof v === 'number') bytes = v;
  else if (typeof v === 'string') {
    const m = /^\s*(\d+(?:\.\d+)?)\s*([KMGT]?)(?:i?B)?\s*$/i.exec(v);
    if (m) bytes = Math.floor(Number(m[1]) * UNITS[m[2]!.toUpperCase()]!);
  }
  if (!Number.isFinite(bytes) || bytes < MIN_MEMORY || !Number.isSafeInteger(bytes)) {
    throw new CelistraError('E_USAGE', `memory must be a size of at least 16M, like 512M or 2G, not ${JSON.stringify(v)}`);
  }
  return bytes;
}

export function parseCpu(v: unknown): number {
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\s*\d+(\.\d+)?\s*$/.test(v) ? Number(v) : NaN;
  if (!Number.isFinite(n) || n < 0.01 || n > 1024) {
    throw new CelistraError('E_USAGE', `cpu must be a number of CPUs from 0.01 to 1024, like 1.5, not ${JSON.stringify(v)}`);
  }
  return n;
}

export function formatBytes(n: number): string {
  for (const unit of ['T', 'G', 'M', 'K'] as const) {
    const size = UNITS[unit]!;
    if (n >= size && n % (size / 4) === 0) return `${n / size}${unit}`;
  }
  return `${n}B`;
}
