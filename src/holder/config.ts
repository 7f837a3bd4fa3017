import { join } from 'node:path';
import type { LaunchPlan } from '../backends/backend.js';
import type { CelistraPaths } from '../policy/paths.js';

/**
 * What one holder needs to run one agent run. The daemon writes it to a 0600 file that
 * the holder reads and deletes at once (the plan's environment may hold secrets).
 */
export interface HolderConfig {
  agent: string;
  /** One holder per run: a restart gets a new run id, socket and holder. */
  runId: string;
  socketPath: string;
  /** Where the holder records the agent's exit, in case no daemon is connected then. */
  exitPath: string;
  plan: LaunchPlan;
  cols: number;
  rows: number;
  scrollbackBytes: number;
}

/** The exit of an agent's process as the holder saw it. */
export interface ExitInfo {
  code: number | null;
  signal: string | null;
  /** The status a shell would report: code, or 128+n for signal n. */
  status: number;
  at: number;
}

/** What a holder says first on every connection. */
export interface HolderHello {
  agent: string;
  runId: string;
  pid: number;
  holderPid: number;
  startedAt: number;
  cols: number;
  rows: number;
  exit?: ExitInfo;
}

export function holdersDir(paths: CelistraPaths): string {
  return join(paths.runtimeDir, 'holders');
}

export function holderFiles(paths: CelistraPaths, runId: string): { socketPath: string; exitPath: string; configPath: string; logPath: string } {
  const dir = holdersDir(paths);
  return {
    socketPath: join(dir, `${runId}.sock`),
    exitPath: join(dir, `${runId}.exit.json`),
    configPath: join(dir, `${runId}.config.json`),
    logPath: join(dir, `${runId}.log`),
  };
}
