import { closeSync, existsSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { CelistraError } from '../policy/errors.js';

export const DAEMON_TITLE = 'celistrad';

export interface DaemonLock {
  path: string;
  release(): void;
}

export function lockPath(runtimeDir: string): string {
  return join(runtimeDir, 'daemon.lock');
}

/** The pid in the lock file when that process is alive and is a Celistra daemon. */
export function runningDaemonPid(runtimeDir: string): number | undefined {
  const path = lockPath(runtimeDir);
  if (!existsSync(path)) return undefined;
  const pid = Number.parseInt(readFileSync(path, 'utf8').trim(), 10);
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return undefined;
  }
  // A recycled pid belonging to something else does not hold the lock. The daemon sets
  // its process title to DAEMON_TITLE; `daemon` on the command line covers the moment
  // before it does.
  const cmdline = `/proc/${pid}/cmdline`;
  if (existsSync(cmdline)) {
    const args = readFileSync(cmdline, 'utf8').split('\0');
    if (!args.includes('daemon') && !args.some((a) => a.startsWith(DAEMON_TITLE))) return undefined;
  }
  return pid;
}

/**
 * One daemon per user: a lock file holding the daemon's pid, created exclusively. A
 * lock left by a dead daemon (kill -9) is taken over.
 */
export function acquireDaemonLock(runtimeDir: string): DaemonLock {
  const path = lockPath(runtimeDir);
  for (let attempt = 0; attempt < 2; attempt++) {
    let fd: number;
    try {
      fd = openSync(path, 'wx', 0o600);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const pid = runningDaemonPid(runtimeDir);
      if (pid !== undefined) {
        throw new CelistraError('E_CONFLICT', `a Celistra daemon is already running (pid ${pid})`, 'stop it with `celistra daemon stop`, or use the running one');
      }
      rmSync(path, { force: true });
      continue;
    }
    writeSync(fd, `${process.pid}\n`);
    closeSync(fd);
    return {
      path,
      release() {
        if (runningDaemonPid(runtimeDir) === process.pid) rmSync(path, { force: true });
      },
    };
  }
  throw new CelistraError('E_CONFLICT', `could not take the daemon lock ${path}: another daemon is starting`);
}
