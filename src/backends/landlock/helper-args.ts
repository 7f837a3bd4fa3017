import type { Policy } from '../../policy/policy.js';
import { tmpTops } from '../host-tmp-gap.js';

/** How the helper will fence this run; decided by plan() from the probe. */
export interface HelperMode {
  /** User + mount (+ net) namespaces: read-only remount, masks, private /tmp. */
  namespaces: boolean;
  /** Tests only: the highest ABI the helper may use. */
  abiCap?: number;
  /**
   * The seccomp program to install before the command runs (src/backends/seccomp/), as
   * the hex the helper's command line takes. Going through a Buffer would cost ~0.4 ms of
   * each run: Node's hex codec is slow on its first decode and again on its first encode.
   */
  seccompFilterHex?: string;
}

/**
 * The policy as celistra-exec's command line (native/src/helper-options.h documents
 * the grammar). Paths are already realpath'd by the Policy builder.
 */
export function helperArgs(policy: Policy, argv: string[], mode: HelperMode): string[] {
  const args: string[] = [];
  if (mode.namespaces) args.push('--namespaces');
  args.push('--net', policy.network, '--new-session');
  if (mode.abiCap !== undefined) args.push('--abi-cap', String(mode.abiCap));
  for (const w of [policy.workspace, ...policy.writableRoots]) args.push('--write', w);
  args.push('--tmp', policy.tmpDir);
  for (const p of policy.readOnlyPaths) args.push('--read-only', p);
  for (const d of policy.denyRead) args.push('--deny-read', d);
  if (mode.namespaces) for (const t of tmpTops(policy, argv)) args.push('--keep-tmp', t);
  if (mode.seccompFilterHex) args.push('--seccomp-filter', mode.seccompFilterHex);
  args.push('--', ...argv);
  return args;
}
