/**
 * The Landlock ABI as this backend uses it. Mirrors native/src/landlock-abi.h and
 * required_landlock_abi() in native/src/landlock-ruleset.c: the TS side refuses early
 * from the probe, the helper refuses again from the kernel's own answer.
 */

/** Rights and scopes each ABI adds, for `doctor` and docs. */
export const RIGHTS_ADDED_BY_ABI: Record<number, string[]> = {
  1: [
    'fs.execute', 'fs.write_file', 'fs.read_file', 'fs.read_dir', 'fs.remove_dir', 'fs.remove_file', 'fs.make_char',
    'fs.make_dir', 'fs.make_reg', 'fs.make_sock', 'fs.make_fifo', 'fs.make_block', 'fs.make_sym',
  ],
  2: ['fs.refer'],
  3: ['fs.truncate'],
  4: ['net.bind_tcp', 'net.connect_tcp'],
  5: ['fs.ioctl_dev'],
  6: ['scope.abstract_unix_socket', 'scope.signal'],
  7: ['restrict_self.log_flags'],
};

/** The newest ABI whose rights the helper knows; newer kernels are used as this one. */
export const KNOWN_ABI = 7;

/** Below this nothing can hold even the simplest policy (see requiredAbi). */
export function minimumAbi(userNamespaces: boolean): number {
  return userNamespaces ? 1 : 3;
}

/**
 * The lowest ABI that can hold a policy. With a mount namespace, a read-only remount
 * stops truncate outside the writable roots and a network namespace takes the network
 * away, so ABI 1 suffices; without one, TRUNCATE (ABI 3) and TCP rules (ABI 4) must.
 */
export function requiredAbi(network: 'on' | 'off', userNamespaces: boolean): number {
  if (userNamespaces) return 1;
  return network === 'off' ? 4 : 3;
}

export function rightsUpTo(abi: number): string[] {
  const out: string[] = [];
  for (let v = 1; v <= Math.min(abi, KNOWN_ABI); v++) out.push(...(RIGHTS_ADDED_BY_ABI[v] ?? []));
  return out;
}
