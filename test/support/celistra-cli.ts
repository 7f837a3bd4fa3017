import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const CELISTRA_BIN = fileURLToPath(new URL('../../../bin/celistra.js', import.meta.url));

export interface CliResult {
  status: number | null;
  stdout: Buffer;
  stderr: string;
}

/** Run the real CLI as a user would, with pipes (no TTY). */
export function runCelistra(args: string[], opts: { env?: Record<string, string>; cwd?: string; input?: Buffer | string; timeoutMs?: number } = {}): CliResult {
  const r = spawnSync(process.execPath, [CELISTRA_BIN, ...args], {
    env: opts.env ?? (process.env as Record<string, string>),
    cwd: opts.cwd,
    input: opts.input,
    timeout: opts.timeoutMs ?? 60_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr.toString() };
}
