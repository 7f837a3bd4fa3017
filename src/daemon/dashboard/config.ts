import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { CelistraError } from '../../policy/errors.js';

/** Celistra's dashboard port unless the flag or the config file says otherwise. */
export const DEFAULT_DASHBOARD_PORT = 33120;
export const DASHBOARD_LOOPBACK = '127.0.0.1';
export const DASHBOARD_CONFIG_FILE = 'dashboard.json';

/**
 * `<config dir>/dashboard.json` (docs/dashboard.md, "Configuration"), read when the daemon
 * starts; the daemon's flags win over it. A malformed file stops the daemon from starting,
 * naming what is wrong, as notify.json does.
 */
export interface DashboardConfig {
  /** TCP port (0: any free one) or 'off'. */
  port?: number | 'off';
  /** The address to bind: an IP literal. Anything but loopback is an explicit choice, warned about. */
  host?: string;
  /** Extra names the browser may use in Host (a tunnel's or the machine's DNS name), when bound beyond loopback. */
  allowedHosts?: string[];
}

/** A port as the flag or the file gives it: a number 0-65535 or `off`. */
export function parsePort(v: unknown, where: string): number | 'off' {
  if (v === 'off') return 'off';
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : NaN;
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new CelistraError('E_USAGE', `${where} must be a port number (0-65535) or off, not ${JSON.stringify(v)}`);
  return n;
}

/** An address to bind: an IPv4 or IPv6 literal (a name could resolve to anything, and differently tomorrow). */
export function parseHost(v: unknown, where: string): string {
  if (typeof v !== 'string' || isIP(v) === 0) throw new CelistraError('E_USAGE', `${where} must be an IP address (127.0.0.1, 0.0.0.0, ::, 192.168.1.5, ...), not ${JSON.stringify(v)}`);
  return v;
}

export function loadDashboardConfig(configDir: string): DashboardConfig {
  const path = join(configDir, DASHBOARD_CONFIG_FILE);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new CelistraError('E_USAGE', `cannot read ${path}: ${(e as Error).message}`);
  }
  let o: unknown;
  try {
    o = JSON.parse(text);
  } catch (e) {
    throw new CelistraError('E_USAGE', `${path} is not JSON: ${(e as Error).message}`, 'see docs/dashboard.md, "Configuration"');
  }
  if (typeof o !== 'object' || o === null || Array.isArray(o)) throw new CelistraError('E_USAGE', `${path} must hold a JSON object`, 'see docs/dashboard.md, "Configuration"');
  const known = ['port', 'host', 'allowedHosts'];
  const unknown = Object.keys(o).filter((k) => !known.includes(k));
  if (unknown.length) throw new CelistraError('E_USAGE', `${path}: unknown key ${unknown.map((k) => `"${k}"`).join(', ')} (known: ${known.join(', ')})`);
  const c = o as Record<string, unknown>;
  const config: DashboardConfig = {};
  if (c.port !== undefined) config.port = parsePort(c.port, `"port" in ${path}`);
  if (c.host !== undefined) config.host = parseHost(c.host, `"host" in ${path}`);
  if (c.allowedHosts !== undefined) {
    const names = c.allowedHosts;
    if (!Array.isArray(names) || !names.every((n) => typeof n === 'string' && /^[A-Za-z0-9.-]{1,253}$/.test(n))) {
      throw new CelistraError('E_USAGE', `"allowedHosts" in ${path} must be a list of host names (letters, digits, dots, dashes), without ports`);
    }
    config.allowedHosts = names as string[];
  }
  return config;
}

const isWildcard = (host: string) => host === '0.0.0.0' || host === '::';
export const isLoopbackAddress = (host: string) => host === '::1' || /^127\./.test(host);
/** How an address appears in a Host header or URL: IPv6 in brackets. */
export const hostPart = (address: string) => (isIP(address) === 6 ? `[${address}]` : address);

/**
 * The Host header values the listener accepts (`name:PORT`): the names a browser uses to
 * reach the bound address and nothing else, so a DNS-rebound name is refused. Loopback
 * names when the bind covers loopback, the address itself, every interface address for a
 * wildcard bind, and the names the config adds.
 */
export function allowedHostHeaders(bound: string, port: number, extraNames: string[] = []): Set<string> {
  const names = new Set<string>();
  if (bound === DASHBOARD_LOOPBACK || isWildcard(bound)) names.add('127.0.0.1').add('localhost');
  if (bound === '::1' || bound === '::') names.add('[::1]').add('localhost');
  if (!isWildcard(bound)) names.add(hostPart(bound));
  else {
    for (const list of Object.values(networkInterfaces())) {
      for (const a of list ?? []) {
        // A link-local IPv6 address needs a zone id, which browsers do not put in Host.
        if (a.family === 'IPv6' && a.address.startsWith('fe80:')) continue;
        if (bound === '0.0.0.0' && a.family !== 'IPv4') continue;
        names.add(hostPart(a.address));
      }
    }
  }
  if (!isLoopbackAddress(bound)) for (const n of extraNames) names.add(n.toLowerCase());
  return new Set([...names].map((n) => `${n}:${port}`));
}

/** The address the login link names: the bound one, or for a wildcard bind the first non-loopback IPv4 address (what a phone on the LAN uses). */
export function linkAddress(bound: string): string {
  if (!isWildcard(bound)) return bound;
  for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  return DASHBOARD_LOOPBACK;
}
