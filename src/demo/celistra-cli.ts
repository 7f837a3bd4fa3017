import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const CELISTRA_BIN = fileURLToPath(new URL('../../../bin/celistra.js', import.meta.url));

export interface CliResult {
  status: number;
  stdout: string;
  stderr: string;
}

/**
 * One `celistra` command, run the way a user would, its output captured. When `stop`
 * fires (or has fired), the command is sent SIGTERM, which it passes on to what it runs;
 * the promise still settles only once the process has exited. Without `stop` it runs to
 * its end (the demo's clean-up after an interrupt).
 */
export function runCelistra(args: string[], cwd: string, env: Record<string, string>, stop?: AbortSignal): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CELISTRA_BIN, ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const terminate = () => child.kill('SIGTERM');
    if (stop?.aborted) terminate();
    else stop?.addEventListener('abort', terminate, { once: true });
    child.once('error', reject);
    child.once('close', (code, signal) => {
      stop?.removeEventListener('abort', terminate);
      resolve({ status: code ?? (signal ? 128 : 1), stdout, stderr });
    });
  });
}
