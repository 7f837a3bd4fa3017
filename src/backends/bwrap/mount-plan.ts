import { lstatSync } from 'node:fs';
import { CelistraError } from '../../policy/errors.js';
import { isWithin, type Policy } from '../../policy/policy.js';
import { rootsHoldingTmp, tmpTops } from '../host-tmp-gap.js';

/**
 * One filesystem step inside the sandbox. bwrap applies its mount options in argv
 * order and a later mount hides everything an earlier one put at or below the same
 * path, so the order of these steps is the security of the fence.
 */
export type MountStep =
  /** A private, writable tmpfs on /tmp (nothing shared with other agents). */
  | { kind: 'private-tmp'; path: string }
  /** The host's /tmp/<x> holding a writable root or the command, read-only inside the private /tmp (host-tmp-gap.ts). */
  | { kind: 'tmp-top'; path: string }
  /** The host directory, writable (workspace, writable roots, the private TMPDIR). */
  | { kind: 'writable'; path: string }
  /** A path inside a writable root put back read-only (e.g. a worktree's `.git` pointer). */
  | { kind: 'read-only'; path: string }
  /** A read-denied directory hidden under an empty tmpfs, made read-only at the end. */
  | { kind: 'mask-dir'; path: string }
  /** A read-denied file hidden under a device node on a nodev mount: every open fails. */
  | { kind: 'mask-file'; path: string };

/** Rank at equal paths: a mask must win over a bind of the same path, a carve-out over a writable bind. */
const RANK: Record<MountStep['kind'], number> = { 'private-tmp': 0, 'tmp-top': 1, writable: 2, 'read-only': 3, 'mask-dir': 4, 'mask-file': 4 };

const TMP = '/tmp';

function depth(p: string): number {
  return p === '/' ? 0 : p.split('/').length - 1;
}

/** The deepest of `dirs` that is `p` or holds it. */
function nearestAround(dirs: readonly string[], p: string): string | undefined {
  let best: string | undefined;
  for (const d of dirs) if (isWithin(p, d) && (best === undefined || depth(d) > depth(best))) best = d;
  return best;
}

/** /tmp gets a private tmpfs unless a writable root is /tmp or holds it (host-tmp-gap.ts). */
export function wantsPrivateTmp(policy: Policy): boolean {
  return rootsHoldingTmp(policy).length === 0;
}

function isDirectory(p: string): boolean | undefined {
  try {
    return lstatSync(p).isDirectory();
  } catch {
    return undefined;
  }
}

/**
 * The ordered mount steps for a policy. Steps are sorted parents-first (by path depth),
 * so whatever is nested inside something else is mounted after it and wins: a denied
 * directory inside the workspace is masked over the workspace bind, and the private
 * TMPDIR inside Celistra's (denied) runtime dir is bound back over the mask.
 * Reads the filesystem (file or directory?) but never changes it.
 */
export function mountSteps(policy: Policy, argv: readonly string[] = []): MountStep[] {
  const steps: MountStep[] = [];
  const privateTmp = wantsPrivateTmp(policy);
  const tops = privateTmp ? tmpTops(policy, argv) : [];
  const hiddenByPrivateTmp = (p: string) => privateTmp && isWithin(p, TMP) && !tops.some((t) => isWithin(p, t));

  if (privateTmp) steps.push({ kind: 'private-tmp', path: TMP });
  // bwrap takes bind sources from the host's root, so these come from the real /tmp.
  for (const t of tops) steps.push({ kind: 'tmp-top', path: t });
  for (const p of [policy.workspace, ...policy.writableRoots, policy.tmpDir]) steps.push({ kind: 'writable', path: p });

  const masked: string[] = [];
  for (const p of policy.denyRead) {
    if (p === policy.workspace) {
      throw new CelistraError('E_POLICY', `the workspace ${p} is itself read-denied`, 'remove it from --deny-read, or pick another workspace');
    }
    if (hiddenByPrivateTmp(p)) continue;
    const dir = isDirectory(p);
    if (dir === undefined) continue; // gone since the policy was built: nothing left to read
    steps.push({ kind: dir ? 'mask-dir' : 'mask-file', path: p });
    masked.push(p);
  }

  const writable = [policy.workspace, ...policy.writableRoots, policy.tmpDir];
  // The nearest mask or writable root around a carve-out decides: inside a mask it is
  // bound only where a writable root nested in that mask (a preset's own state dir in its
  // hidden base) brought that part of the tree back.
  const hiddenByMask = (p: string) => {
    const mask = nearestAround(masked, p);
    const root = nearestAround(writable, p);
    return mask !== undefined && (root === undefined || depth(root) <= depth(mask));
  };
  for (const p of policy.readOnlyPaths) {
    // Putting it back inside a mask would undo the mask; masked is stronger than read-only.
    if (hiddenByMask(p) || hiddenByPrivateTmp(p)) continue;
    if (isDirectory(p) === undefined) {
      // A missing path cannot be bound, and leaving it out would let the agent create it.
      throw new CelistraError('E_NO_BACKEND', `read-only path ${p} does not exist, so bwrap cannot protect it`, 'create it first, or drop it from the policy');
    }
    steps.push({ kind: 'read-only', path: p });
  }

  return steps
    .map((s, i) => ({ s, i }))
    .sort((a, b) => depth(a.s.path) - depth(b.s.path) || RANK[a.s.kind] - RANK[b.s.kind] || a.i - b.i)
    .map(({ s }) => s);
}
