import { existsSync, readFileSync } from 'node:fs';

/**
 * Whether `holderPid` is still the holder of run `runId`. A pid the kernel has handed to
 * another process since is not: on Linux the holder's command line names its run's
 * config file; elsewhere only liveness can be checked.
 */
export function isHolderAlive(holderPid: number | undefined, runId: string): boolean {
  if (!holderPid || holderPid <= 0) return false;
  try {
    process.kill(holderPid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const cmdline = `/proc/${holderPid}/cmdline`;
  if (!existsSync(cmdline)) return process.platform !== 'linux';
  try {
    return readFileSync(cmdline, 'utf8').includes(`/${runId}.config.json`);
  } catch {
    return false;
  }
}

/**
 * End a holder the daemon cannot talk to, and with it its agent: SIGTERM (the holder
 * hangs up the agent and exits; the exec helper, which dies with its holder, ends the
 * fenced tree), then SIGKILL after `graceMs`. Resolves once it is gone.
 */
export async function stopHolder(holderPid: number | undefined, runId: string, graceMs = 2000): Promise<void> {
  if (!isHolderAlive(holderPid, runId)) return;
  signal(holderPid!, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 25));
    if (!isHolderAlive(holderPid, runId)) return;
  }
  signal(holderPid!, 'SIGKILL');
  for (let i = 0; i < 200 && isHolderAlive(holderPid, runId); i++) await new Promise((r) => setTimeout(r, 10));
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // gone meanwhile
  }
}
