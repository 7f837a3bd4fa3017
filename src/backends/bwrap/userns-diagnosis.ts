import { readFileSync } from 'node:fs';

/**
 * Set to 1 to behave as on a kernel without user namespaces (degraded-kernel tests).
 * The same variable is read by the Landlock backend.
 */
export const FORCE_NO_USERNS_ENV = 'CELISTRA_FORCE_NO_USERNS';

/** Kernel switches that commonly stop unprivileged bwrap, with the fix for each. */
interface UsernsSwitch {
  file: string;
  blocksWhen: (value: string) => boolean;
  reason: string;
  fix: string;
}

const SWITCHES: UsernsSwitch[] = [
  {
    file: '/proc/sys/kernel/apparmor_restrict_unprivileged_userns',
    blocksWhen: (v) => v === '1',
    reason: "AppArmor blocks unprivileged user namespaces (Ubuntu 24.04+: kernel.apparmor_restrict_unprivileged_userns=1), which bwrap needs when not run as root",
    fix: 'sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0 (persist it in /etc/sysctl.d/), or load an AppArmor profile for bwrap that allows `userns` (see docs/bwrap.md)',
  },
  {
    file: '/proc/sys/kernel/unprivileged_userns_clone',
    blocksWhen: (v) => v === '0',
    reason: 'unprivileged user namespaces are disabled (kernel.unprivileged_userns_clone=0)',
    fix: 'sudo sysctl -w kernel.unprivileged_userns_clone=1 (persist it in /etc/sysctl.d/)',
  },
  {
    file: '/proc/sys/user/max_user_namespaces',
    blocksWhen: (v) => v === '0',
    reason: 'user namespaces are disabled (user.max_user_namespaces=0)',
    fix: 'sudo sysctl -w user.max_user_namespaces=15000 (persist it in /etc/sysctl.d/)',
  },
];

export type SwitchReader = (file: string) => string | undefined;

function readSwitch(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** The switch values found, for `doctor`. */
export function usernsSwitches(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const s of SWITCHES) {
    const v = readSwitch(s.file);
    if (v !== undefined) out[s.file.replace('/proc/sys/', '').replaceAll('/', '.')] = v;
  }
  return out;
}

/** Why a failed unprivileged trial run most likely failed, when a known switch explains it. */
export function diagnoseUserns(read: SwitchReader = readSwitch): { reason: string; fix: string } | undefined {
  for (const s of SWITCHES) {
    const v = read(s.file);
    if (v !== undefined && s.blocksWhen(v)) return { reason: s.reason, fix: s.fix };
  }
  return undefined;
}
