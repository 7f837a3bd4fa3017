import { unixSocketsAllowed, type Policy } from '../../policy/policy.js';
import type { FenceFilterOptions } from './fence-filter.js';

/** Which variant of the fence filter a policy's run installs. */
export function fenceFilterOptions(policy: Policy): FenceFilterOptions {
  return { unixSockets: unixSocketsAllowed(policy) ? 'allow' : 'refuse', network: policy.network };
}

/** The plan's notes (`celistra run --verbose`) about the filter, installed or not. */
export function fenceFilterNotes(policy: Policy, installed: boolean): string[] {
  if (!installed) return ['seccomp filter NOT installed (unsupported here): kernel keyrings, unix sockets, vsock and ptrace of the sandbox init not refused'];
  const o = fenceFilterOptions(policy);
  return [
    'seccomp: kernel keyrings refused (keyctl, add_key, request_key: ENOSYS); no ptrace or memory access of the sandbox init; io_uring refused',
    o.unixSockets === 'allow' ? 'unix sockets ALLOWED (--allow-unix-sockets)' : 'seccomp: no unix sockets (socket(AF_UNIX) refused; socketpair allowed)',
    o.network === 'off' ? 'seccomp: with the network off only unix, inet, inet6 and netlink sockets can be created' : 'seccomp: vsock sockets refused',
  ];
}
