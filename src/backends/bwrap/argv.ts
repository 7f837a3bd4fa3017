import type { Policy } from '../../policy/policy.js';
import { mountSteps, type MountStep } from './mount-plan.js';
import { underSandboxInit } from './sandbox-init.js';

export interface BwrapArgvOptions {
  /**
   * Running as root: bwrap is privileged and needs no user namespace, but then keeps
   * every capability unless told otherwise. Not root: a user namespace is required.
   */
  asRoot: boolean;
  /** Celistra's init (sandbox-init.ts), run as pid 1 in place of bwrap's own; absent: bwrap's. */
  init?: string;
}

/**
 * Namespaces and process hygiene; shared with the probe's trial run so the probe tests
 * what runs. `--new-session` is not here: the launcher adds it when the process is not
 * already the leader of a session on Celistra's own PTY (see launcher.ts).
 */
export function isolationArgs(opts: BwrapArgvOptions, network: Policy['network']): string[] {
  const args = [
    '--die-with-parent',
    '--unshare-pid',
    '--unshare-ipc',
    '--unshare-uts',
  ];
  if (!opts.asRoot) args.push('--unshare-user');
  if (network === 'off') args.push('--unshare-net');
  // As root without this, the agent keeps CAP_SYS_ADMIN and could remount / read-write.
  args.push('--cap-drop', 'ALL');
  return args;
}

function stepArgs(step: MountStep): string[] {
  switch (step.kind) {
    case 'private-tmp':
      return ['--tmpfs', step.path];
    case 'writable':
      return ['--bind', step.path, step.path];
    case 'read-only':
    case 'tmp-top':
      return ['--ro-bind', step.path, step.path];
    case 'mask-dir':
      return ['--tmpfs', step.path];
    case 'mask-file':
      // bwrap's binds are nodev, so opening this device node fails for read and write alike.
      return ['--ro-bind', '/dev/null', step.path];
  }
}

/** The whole bwrap argv (without the program name) for a policy and command. */
export function bwrapArgs(policy: Policy, command: string[], opts: BwrapArgvOptions): string[] {
  const argv = underSandboxInit(command, opts.init);
  // The init's own path counts as the command's: under /tmp it must stay visible.
  const steps = mountSteps(policy, argv);
  const args = [
    ...isolationArgs(opts, policy.network),
    // The host, read-only: writes and metadata changes (chmod, utime, xattr) fail with EROFS.
    '--ro-bind', '/', '/',
    '--dev', '/dev',
    // A fresh proc for the new pid namespace: outside processes are invisible.
    '--proc', '/proc',
    // As root (no user namespace) the host's knobs answer to uid 0 by file mode alone:
    // /proc/sys/kernel/core_pattern, namespaced sysctls, /proc/sysrq-trigger. bwrap's own
    // cover of /proc/sys is skipped because access(2) calls the directory read-only.
    // Unprivileged, they belong to the host's root, and a read-only /proc would stop a
    // nested sandbox from writing its uid map.
    ...(opts.asRoot ? ['--remount-ro', '/proc'] : []),
    // A private POSIX shared-memory dir (other agents' /dev/shm objects are absent).
    '--tmpfs', '/dev/shm',
  ];
  for (const s of steps) args.push(...stepArgs(s));
  // Only now, with every bind inside a mask in place, can the masks become read-only;
  // the remount is not recursive, so the binds inside stay writable.
  for (const s of steps) if (s.kind === 'mask-dir') args.push('--remount-ro', s.path);
  if (opts.init) args.push('--as-pid-1');
  args.push('--chdir', policy.workspace, '--', ...argv);
  return args;
}
