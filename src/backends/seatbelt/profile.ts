import { CelistraError } from '../../policy/errors.js';
import { isWithin, unixSocketsAllowed, type Policy } from '../../policy/policy.js';
import { ancestorsOf, seatbeltPath } from './darwin-paths.js';

/**
 * A Seatbelt profile plus its parameters. Paths never appear in the profile text:
 * each is passed with `sandbox-exec -D NAME=path` and referenced as `(param "NAME")`,
 * so no path can break out of an SBPL string, and the text depends only on the
 * policy's shape.
 */
export interface SeatbeltProfile {
  text: string;
  params: Array<[name: string, value: string]>;
}

/**
 * Services a command-line agent needs: user and group lookups, logging, notifications,
 * TLS trust evaluation, preferences, the per-user temp-dir lookup and file watching.
 * Deliberately absent: launchd job submission, LaunchServices (`open`) and Apple
 * Events, which would start programs outside the sandbox.
 */
const MACH_SERVICES = [
  'com.apple.system.opendirectoryd.libinfo',
  'com.apple.system.opendirectoryd.membership',
  'com.apple.system.notification_center',
  'com.apple.system.logger',
  'com.apple.logd',
  'com.apple.diagnosticd',
  'com.apple.trustd',
  'com.apple.trustd.agent',
  'com.apple.SecurityServer',
  'com.apple.securityd.xpc',
  'com.apple.ocspd',
  'com.apple.cfprefsd.daemon',
  'com.apple.cfprefsd.agent',
  'com.apple.bsd.dirhelper',
  'com.apple.FSEvents',
];

/** Extra services needed only with network on (DNS goes through mDNSResponder). */
const NETWORK_MACH_SERVICES = ['com.apple.dnssd.service', 'com.apple.SystemConfiguration.configd', 'com.apple.SystemConfiguration.DNSConfiguration'];

/** Unix sockets the resolver needs with network on: libinfo asks mDNSResponder through this one. */
const UNIX_SOCKETS_FOR_NETWORK = ['(remote unix-socket (path-literal "/private/var/run/mDNSResponder"))'];

class ParamTable {
  readonly params: Array<[string, string]> = [];
  private readonly counts = new Map<string, number>();

  /** A `(param "...")` reference for `path`: named `name`, or `name<n>` when `name` ends in `_`. */
  add(name: string, path: string): string {
    let full = name;
    if (name.endsWith('_')) {
      const n = this.counts.get(name) ?? 0;
      this.counts.set(name, n + 1);
      full = `${name}${n}`;
    }
    this.params.push([full, seatbeltPath(path)]);
    return `(param "${full}")`;
  }
}

/** One rule over a list of filters; none when the list is empty, since a rule without filters matches everything. */
function rule(action: 'allow' | 'deny', ops: string, filters: string[]): string[] {
  if (filters.length === 0) return [];
  return [`(${action} ${ops}`, ...filters.map((f) => `  ${f}`), ')'];
}

export function seatbeltProfile(policy: Policy): SeatbeltProfile {
  if (policy.denyRead.includes(policy.workspace)) {
    throw new CelistraError('E_POLICY', `the workspace ${policy.workspace} is itself read-denied`, 'remove it from --deny-read, or pick another workspace');
  }
  const t = new ParamTable();
  const workspace = t.add('WORKSPACE', policy.workspace);
  const tmp = t.add('TMPDIR', policy.tmpDir);
  const roots = policy.writableRoots.map((r) => t.add('WRITABLE_ROOT_', r));
  const denied = policy.denyRead.map((p) => t.add('DENY_READ_', p));
  const readOnly = policy.readOnlyPaths.map((p) => t.add('READ_ONLY_', p));

  // Writable dirs inside a read-denied one (the private TMPDIR inside Celistra's runtime
  // dir, a workspace inside a denied tree) are put back after the denies, with the
  // metadata of their denied ancestors so that realpath() can walk down to them.
  const writable = [policy.workspace, policy.tmpDir, ...policy.writableRoots];
  const insideDenied = (p: string) => policy.denyRead.some((d) => isWithin(p, d) && p !== d);
  const putBack = writable.filter(insideDenied).map((p) => t.add('PUT_BACK_', p));
  const walkable = new Set(writable.filter(insideDenied).flatMap((p) => ancestorsOf(p).filter((a) => policy.denyRead.some((d) => isWithin(a, d)))));
  const walk = [...walkable].sort().map((a) => t.add('PUT_BACK_ANCESTOR_', a));

  // A protected path inside a writable root could be moved away by renaming one of its
  // ancestors there (rules follow the path, not the file): pin those ancestors.
  const pinned = new Set<string>();
  for (const p of [...policy.readOnlyPaths, ...policy.denyRead]) {
    for (const a of ancestorsOf(p)) if (writable.some((w) => isWithin(a, w))) pinned.add(a);
  }
  const pins = [...pinned].sort().map((a) => t.add('PROTECTED_ANCESTOR_', a));

  const lines = [
    '(version 1)',
    '; Celistra: deny by default, then allow what a command-line agent needs. The last matching rule wins.',
    '(deny default)',
    '(allow process-fork)',
    '(allow process-exec)',
    '(allow signal (target same-sandbox))',
    '(allow process-info* (target same-sandbox))',
    '(allow sysctl-read)',
    '(allow user-preference-read)',
    ...rule('allow', 'mach-lookup', [...MACH_SERVICES, ...(policy.network === 'on' ? NETWORK_MACH_SERVICES : [])].map((s) => `(global-name "${s}")`)),
    '(allow ipc-posix-sem)',
    '(allow ipc-posix-shm-read-data (ipc-posix-name "apple.shm.notification_center"))',
    '(allow pseudo-tty)',
    '(allow file-ioctl (literal "/dev/null") (literal "/dev/zero") (literal "/dev/random") (literal "/dev/urandom") (literal "/dev/ptmx") (literal "/dev/tty") (regex #"^/dev/ttys[0-9]+$"))',
    ...rule('allow', 'file-ioctl', [workspace, tmp, ...roots].map((p) => `(subpath ${p})`)),
    // /dev/fd/N and /dev/std* re-open a descriptor the process already holds (fdesc dups it).
    '(allow file-write-data (literal "/dev/null") (literal "/dev/zero") (literal "/dev/dtracehelper") (literal "/dev/tty") (literal "/dev/ptmx") (regex #"^/dev/ttys[0-9]+$") (regex #"^/dev/fd/[0-9]+$") (literal "/dev/stdout") (literal "/dev/stderr"))',
    '; Reads: everything except the read-denied paths below.',
    '(allow file-read*)',
    '; Writes (content and metadata): only the workspace, the writable roots and the private temp dir.',
    ...rule('allow', 'file-write*', [workspace, tmp, ...roots].map((p) => `(subpath ${p})`)),
    "; Read-denied paths: secrets and Celistra's own state, config and socket.",
    ...rule('deny', 'file-read* file-write*', denied.map((p) => `(subpath ${p})`)),
    ...rule('allow', 'file-read* file-write*', putBack.map((p) => `(subpath ${p})`)),
    ...rule('allow', 'file-read-metadata', walk.map((p) => `(literal ${p})`)),
    '; Read-only carve-outs inside writable roots, and the ancestors that would let them be moved away.',
    ...rule('deny', 'file-write*', readOnly.map((p) => `(subpath ${p})`)),
    ...rule('deny', 'file-write-unlink', pins.map((p) => `(literal ${p})`)),
  ];
  const unixSocketsIn = (ps: string[]) => ps.map((p) => `(remote unix-socket (subpath ${p}))`);
  if (policy.network === 'on' && unixSocketsAllowed(policy)) {
    lines.push('; Network on, unix sockets allowed: everything except unix sockets in read-denied paths (the daemon socket).', '(allow network*)');
  } else if (policy.network === 'on') {
    lines.push('; Network on: everything except unix sockets outside the writable roots (Docker, ssh-agent, other agents).', '(allow network*)');
    lines.push('(deny network-outbound (remote unix-socket (subpath "/")))');
    lines.push(...rule('allow', 'network-outbound', [...unixSocketsIn([workspace, tmp, ...roots]), ...UNIX_SOCKETS_FOR_NETWORK]));
  } else {
    lines.push('; Network off: only unix sockets inside the writable roots.');
    lines.push(...rule('allow', 'network-outbound', unixSocketsIn([workspace, tmp, ...roots])));
  }
  lines.push(...rule('deny', 'network-outbound', unixSocketsIn(denied)));
  lines.push(...rule('allow', 'network-outbound', unixSocketsIn(putBack)));
  return { text: lines.join('\n') + '\n', params: t.params };
}

/** `sandbox-exec` arguments: the profile, its parameters, then the command. */
export function sandboxExecArgs(profile: SeatbeltProfile, argv: string[]): string[] {
  return ['-p', profile.text, ...profile.params.flatMap(([k, v]) => ['-D', `${k}=${v}`]), '--', ...argv];
}
