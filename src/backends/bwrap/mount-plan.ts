import { lstatSync } from 'node:fs';
import { CelistraError } from '../../core/errors.js';
import { isWithin, type Policy } from '../../core/policy.js';

/**
 * One filesystem step inside the sandbox. bwrap applies its mount options in argv
 * order and a later mount hides everything an earlier one put at or below the same
 * path, so the order of these steps is the security of the fence.
 */
export type MountStep =
  /** A private, writable tmpfs on /tmp (nothing shared with other agents). */
  | { kind: 'private-tmp'; path: string }
  /** The host directory, writable (workspace, writable roots, the private TMPDIR). */
  | { kind: 'writable'; path: string }
  /** A path inside a writable root put back read-only (e.g. a worktree's `.git` pointer). */
  | { kind: 'read-only'; path: string }
  /** A read-denied directory hidden under an empty tmpfs, made read-only at the end. */
  | { kind: 'mask-dir'; path: string }
  /** A read-denied file hidden under a device node on a nodev mount: every open fails. */
  | { kind: 'mask-file'; path: string };

/** Rank at equal paths: a mask must win over a bind of the same path, a carve-out over a writable bind. */
const RANK: Record<MountStep['kind'], number> = { 'private-tmp': 0, writable: 1, 'read-only': 2, 'mask-dir': 3, 'mask-file': 3 };

const TMP = '/tmp';

function depth(p: string): number {
  return p === '/' ? 0 : p.split('/').length - 1;
}

/**
 * /tmp gets a private tmpfs only when nothing the agent must reach lives under it: a
 * workspace under /tmp usually needs its siblings readable (a worktree reads the main
 * repository's objects), and a tmpfs would hide them. Then /tmp stays read-only instead.
 */
export function wantsPrivateTmp(policy: Policy): boolean {
  return ![policy.workspace, ...policy.writableRoots].some((p) => isWithin(p, TMP));
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
export function mountSteps(policy: Policy): MountStep[] {
  const steps: MountStep[] = [];
  const privateTmp = wantsPrivateTmp(policy);
  const hiddenByPrivateTmp = (p: string) => privateTmp && isWithin(p, TMP);

  if (privateTmp) steps.push({ kind: 'private-tmp', path: TMP });
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

  for (const p of policy.readOnlyPaths) {
    // Putting it back inside a mask would undo the mask; masked is stronger than read-only.
    if (masked.some((m) => isWithin(p, m)) || hiddenByPrivateTmp(p)) continue;
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
