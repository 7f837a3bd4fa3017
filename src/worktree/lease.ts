import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { CelistraError } from '../policy/errors.js';
import type { CelistraPaths } from '../policy/paths.js';
import { attachHead, detachHead } from './adopt.js';
import { layoutOf, readRecord, type WorktreeLayout, type WorktreeRecord } from './record.js';
import { verifyShadowObjectStore } from './shadow.js';
import { pinSubmoduleNames } from './submodule-pins.js';
import { guardHostGit, guardNote } from './host-git-guard.js';
import { hasLiveLease, leaseAlive, leasesDir } from './lease-liveness.js';

export { leasesRoot } from './lease-liveness.js';

/**
 * Which fenced runs use a task worktree right now. Each run takes a lease, a file in
 * Celistra's state dir (read-denied to every agent; not in the repository, which is the
 * user's and must not change because something ran) named `<pid>.<random>` after the
 * process that lives exactly as long as the run (`celistra run` itself, which does not
 * hand itself over to the exec helper in a task worktree, or the daemon's holder for the agent).
 * A lease whose process is gone counts for nothing and is dropped when seen.
 *
 * What leases decide: `worktree rm` and `worktree release` refuse while a run holds one
 * (removing a tree its agent still writes would race the agent), and an adopted
 * worktree's HEAD names its branch only while leased (worktree/adopt.ts).
 */
export interface Checkout {
  record: WorktreeRecord;
  layout: WorktreeLayout;
}

/** Before a fenced run: lease the worktree to `pid`, and attach an adopted worktree's HEAD. */
export function takeCheckout(checkout: Checkout, pid: number, paths?: CelistraPaths): string {
  const dir = leasesDir(checkout.layout, paths);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  // A run that was killed (or a holder whose daemon was gone) never releases: its lease goes here,
  // once its process is gone (leaseAlive drops it).
  for (const f of readdirSync(dir)) leaseAlive(join(dir, f));
  const lease = join(dir, `${pid}.${randomBytes(6).toString('hex')}`);
  writeFileSync(lease, '');
  attachHead(checkout.record, checkout.layout);
  return lease;
}

/** Hand a lease to the process that now holds the run (the daemon's holder, once it exists). */
export function moveLease(lease: string, pid: number): string {
  const moved = join(dirname(lease), `${pid}.${basename(lease).split('.')[1]}`);
  renameSync(lease, moved);
  return moved;
}

/** After a fenced run: drop the leases of `pid`; the last run out detaches an adopted worktree's HEAD. */
export function releaseCheckout(checkout: Checkout, pid: number, paths?: CelistraPaths): void {
  pinAfterRun(checkout);
  const dir = leasesDir(checkout.layout, paths);
  if (existsSync(dir)) for (const f of readdirSync(dir)) if (f.startsWith(`${pid}.`)) rmSync(join(dir, f), { force: true });
  const running = hasLiveLease(checkout.layout, paths);
  // The last run out: its git state is the user's to run git on now.
  guardAfterRun(checkout, running);
  if (!running) {
    if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
    detachHead(checkout.record, checkout.layout);
  }
}

/**
 * The run may have put new submodule names in `.gitmodules` (worktree, index or a
 * commit): pinned now, before the user's own git runs there (worktree/submodule-pins.ts).
 * A failure is said, not thrown: the run itself is over and its status must reach the caller.
 */
function pinAfterRun({ record, layout }: Checkout): void {
  try {
    verifyShadowObjectStore(layout, record.commonDir);
    pinSubmoduleNames(record);
  } catch (e) {
    process.stderr.write(`celistra: warning: could not pin the submodules of task worktree ${record.path}: ${(e as Error).message}. Do not run git by hand there before \`celistra worktree ls\` succeeds.\n`);
  }
}

/**
 * The last run out leaves the task's git state to the user's git: guarded now
 * (worktree/host-git-guard.ts). A failure is said, not thrown, as for the pins.
 */
function guardAfterRun({ record, layout }: Checkout, running: boolean): void {
  try {
    process.stderr.write(guardNote(record.name, guardHostGit(record, layout, running)));
  } catch (e) {
    process.stderr.write(`celistra: warning: could not check the git state of task worktree ${record.path}: ${(e as Error).message}. Do not run git by hand there before \`celistra worktree ls\` succeeds.\n`);
  }
}

/** Refused while any fenced run uses the worktree: its agent may be writing the tree. */
export function refuseWhileLeased(record: WorktreeRecord, layout: WorktreeLayout, paths?: CelistraPaths): void {
  if (hasLiveLease(layout, paths)) {
    throw new CelistraError('E_CONFLICT', `a fenced agent is running in ${record.path}`, 'stop it first (end its `celistra run`, or `celistra ctl kill NAME`); nothing was changed');
  }
}

/** The task worktree behind git grants (made by `celistra worktree add`, or adopted), else undefined. */
export function recordedCheckout(grants: { adminDir: string; commonDir: string } | undefined): Checkout | undefined {
  if (!grants) return undefined;
  const admin = grants.adminDir;
  const adopted = basename(dirname(admin)) === 'worktrees' && dirname(dirname(admin)) === grants.commonDir;
  const name = adopted ? basename(admin) : basename(dirname(admin));
  const record = readRecord(grants.commonDir, name);
  if (!record) return undefined;
  const layout = layoutOf(record);
  return layout.adminDir === admin ? { record, layout } : undefined;
}
