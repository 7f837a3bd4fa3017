import { existsSync, readdirSync, rmSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { basename, join } from 'node:path';
import { celistraPaths, type CelistraPaths } from '../policy/paths.js';
import type { WorktreeLayout } from './record.js';

/**
 * Whether a fenced run holds a task worktree (worktree/lease.ts takes and drops the
 * leases): read by the lease itself and by host-side commands that must not change the
 * agent's git state under a running agent (worktree/host-git-guard.ts).
 */

/** Where every task's leases live, in Celistra's state dir. */
export function leasesRoot(stateDir: string): string {
  return join(stateDir, 'leases');
}

/** One dir per task, named by a hash of its container's path. */
export function leasesDir(layout: WorktreeLayout, paths: CelistraPaths = celistraPaths()): string {
  return join(leasesRoot(paths.stateDir), createHash('sha256').update(layout.container).digest('hex').slice(0, 24));
}

export function hasLiveLease(layout: WorktreeLayout, paths?: CelistraPaths): boolean {
  const dir = leasesDir(layout, paths);
  return existsSync(dir) && readdirSync(dir).filter((f) => leaseAlive(join(dir, f))).length > 0;
}

/** Whether the lease's process lives; a dead one's lease is dropped. */
export function leaseAlive(file: string): boolean {
  const pid = Number(basename(file).split('.')[0]);
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EPERM') return true;
    rmSync(file, { force: true });
    return false;
  }
}
