import { dirname } from 'node:path';

/**
 * On macOS /tmp, /var and /etc are symlinks into /private, and Seatbelt matches the
 * resolved path: a rule on /tmp/x never matches. Policies are realpath'd already;
 * this keeps a rule correct even for a path that was not (e.g. one that did not exist).
 */
const PRIVATE_ALIASES = ['/tmp', '/var', '/etc'];

export function seatbeltPath(p: string): string {
  for (const alias of PRIVATE_ALIASES) {
    if (p === alias || p.startsWith(`${alias}/`)) return `/private${p}`;
  }
  return p;
}

/** Every proper ancestor of an absolute path, nearest first, excluding `/`. */
export function ancestorsOf(p: string): string[] {
  const out: string[] = [];
  for (let d = dirname(p); d !== '/' && d !== dirname(d); d = dirname(d)) out.push(d);
  return out;
}
