import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { DashboardAuth, sessionCookie, sessionFromCookie } from './auth.js';
import { allowedHostHeaders, DASHBOARD_LOOPBACK, hostPart, isLoopbackAddress, linkAddress } from './config.js';
import { markFromDashboard } from './request.js';
import { errorBody, HttpError, sendError, sendJson } from '../http-error.js';

/** The unix-socket endpoint `celistra dashboard` asks for a login link. Not served over TCP. */
export const DASHBOARD_LOGIN_PATH = '/v1/dashboard/login';

const HOST_REFUSED = 'the Host header does not name this dashboard (127.0.0.1:PORT or localhost:PORT, or an address or name it was configured for)';

/** What the daemon's log (and `celistra dashboard`) says when the page is reachable beyond this machine. */
export function exposedWarning(host: string, port: number): string {
  return `the dashboard listens on ${hostPart(host)}:${port}, beyond loopback: other machines can reach it. It still needs a login link, but it is plain HTTP: anyone on the network path can read the session cookie and the agents' screens, and act with them. Prefer loopback and an SSH tunnel (ssh -L ${port}:127.0.0.1:${port} THIS-HOST).`;
}

/** dist/web, where scripts/bundle-web.js puts the page (this file runs from dist/src/daemon). */
const WEB_DIR = fileURLToPath(new URL('../../../web/', import.meta.url));
/** The page shell: everything the browser may load without a session. Nothing else is read from disk. */
const STATIC_FILES: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/app.css': { file: 'app.css', type: 'text/css; charset=utf-8' },
};

// xterm.js builds its DOM renderer's styles in <style> elements: inline styles are allowed,
// scripts only from the page itself. No framing (clickjacking of the kill buttons).
const SECURITY_HEADERS = {
  'content-security-policy': "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  // The login URL carries the token: never send it on to anyone.
  'referrer-policy': 'no-referrer',
};

export interface DashboardOptions {
  /** TCP port (0: any free port), or 'off'. */
  port: number | 'off';
  /** The address to bind (default 127.0.0.1). Anything but loopback is logged as a warning. */
  host?: string;
  /** More names the browser may send in Host, for a bind beyond loopback (a tunnel's or the machine's DNS name). */
  allowedHosts?: string[];
  /** The /v1 router the unix socket uses: the dashboard never has routes of its own. */
  route: (req: IncomingMessage, res: ServerResponse) => void;
  /** The unix socket's WebSocket dispatch (attach, event stream). */
  upgrade: (req: IncomingMessage, socket: Duplex, head: Buffer) => void;
  log: (line: string) => void;
}

export interface DashboardStatus {
  /** `http://127.0.0.1:PORT/` while listening, else null. */
  url: string | null;
  port: number | null;
  /** The address bound, while listening. */
  host?: string;
  /** Bound beyond loopback: reachable from other machines (docs/dashboard.md, "Beyond loopback"). */
  exposed?: boolean;
  /** Why there is no listener (off, port taken), when there is none. */
  reason?: string;
}

export interface Dashboard {
  status(): DashboardStatus;
  /** True for the unix-socket requests this module answers (the login link). */
  handlesControl(req: IncomingMessage): boolean;
  control(req: IncomingMessage, res: ServerResponse): void;
  close(): Promise<void>;
}

/**
 * The browser dashboard's HTTP listener (docs/dashboard.md). Loopback unless another
 * address is asked for explicitly (warned about). Every request must name the listener in
 * Host (`127.0.0.1:PORT` or `localhost:PORT`, or the bound address or a configured name: a
 * DNS-rebound name is refused); /login trades a one-time token for a session cookie; the page shell
 * is public; everything else needs the session, and state-changing requests and
 * WebSocket upgrades also a same-origin Origin header. Accepted requests go to the same
 * router and WebSocket handlers as the unix socket.
 */
export async function startDashboard(opts: DashboardOptions): Promise<Dashboard> {
  const auth = new DashboardAuth();
  let status: DashboardStatus = { url: null, port: null, reason: 'the dashboard is off (daemon started with --dashboard-port off)' };
  let server: Server | undefined;
  let allowedHosts = new Set<string>();

  if (opts.port !== 'off') {
    const srv = createServer({ requestTimeout: 30_000, headersTimeout: 10_000 }, (req, res) => onRequest(req, res));
    srv.on('upgrade', (req, socket, head) => onUpgrade(req, socket, head));
    srv.on('clientError', (_e, socket) => socket.destroy());
    const port = opts.port;
    const host = opts.host ?? DASHBOARD_LOOPBACK;
    try {
      await new Promise<void>((resolve, reject) => {
        srv.once('error', reject);
        srv.listen(port, host, () => resolve());
      });
      server = srv;
      const bound = (srv.address() as AddressInfo).port;
      allowedHosts = allowedHostHeaders(host, bound, opts.allowedHosts);
      const exposed = !isLoopbackAddress(host);
      status = { url: `http://${hostPart(linkAddress(host))}:${bound}/`, port: bound, host, exposed };
      opts.log(`celistrad: dashboard on ${status.url} (\`celistra dashboard\` prints a login link)`);
      if (exposed) opts.log(`celistrad: WARNING: ${exposedWarning(host, bound)}`);
    } catch (e) {
      // The agents matter more than the page: the daemon runs on, and says why there is no page.
      status = { url: null, port: null, reason: `the dashboard could not listen on ${hostPart(host)}:${port}: ${(e as Error).message}` };
      opts.log(`celistrad: ${status.reason}; start the daemon with --dashboard-port N (or off)`);
    }
  }

  function hostOk(req: IncomingMessage): boolean {
    return allowedHosts.has((req.headers.host ?? '').toLowerCase());
  }

  /** Same origin: the page's own scheme, host and port, as the (allowed) Host header names it. */
  function originOk(req: IncomingMessage): boolean {
    const origin = req.headers.origin;
    return origin !== undefined && origin.toLowerCase() === `http://${(req.headers.host ?? '').toLowerCase()}`;
  }

  function hasSession(req: IncomingMessage): boolean {
    return auth.isSession(sessionFromCookie(req.headers.cookie));
  }

  /** Why a request is refused before it reaches the API, or undefined to let it through. */
  function refusal(req: IncomingMessage, needsOrigin: boolean): HttpError | undefined {
    if (!hostOk(req)) return new HttpError(403, 'E_USAGE', HOST_REFUSED);
    if (!hasSession(req)) return new HttpError(401, 'E_USAGE', 'no dashboard session: open the link `celistra dashboard` prints');
    if (needsOrigin && !originOk(req)) return new HttpError(403, 'E_USAGE', 'cross-origin request refused: the Origin header must be this dashboard');
    return undefined;
  }

  function onRequest(req: IncomingMessage, res: ServerResponse): void {
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) res.setHeader(k, v);
    try {
      const url = new URL(req.url ?? '/', 'http://dashboard');
      const method = req.method ?? 'GET';
      const readOnly = method === 'GET' || method === 'HEAD';
      if (!hostOk(req)) throw new HttpError(403, 'E_USAGE', HOST_REFUSED);
      // GET only: a HEAD (a link preview checking the URL) must not spend the token.
      if (url.pathname === '/login' && method === 'GET') return login(url, res);
      const shell = STATIC_FILES[url.pathname];
      if (shell && readOnly) return serveStatic(shell, res);
      const refused = refusal(req, !readOnly);
      if (refused) throw refused;
      if (!url.pathname.startsWith('/v1/')) throw new HttpError(404, 'E_NOT_FOUND', `no such page ${url.pathname}`);
      markFromDashboard(req);
      opts.route(req, res);
    } catch (e) {
      sendError(res, e);
    }
  }

  function login(url: URL, res: ServerResponse): void {
    const session = auth.exchange(url.searchParams.get('token') ?? '');
    res.setHeader('cache-control', 'no-store');
    if (session === undefined) {
      const text = 'This login link was already used or has expired. Run `celistra dashboard` for a new one.\n';
      res.writeHead(401, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(text) });
      res.end(text);
      return;
    }
    // 303 to a URL without the token: it leaves the address bar and the history.
    res.writeHead(303, { location: '/', 'set-cookie': sessionCookie(session), 'content-length': 0 });
    res.end();
  }

  function serveStatic(shell: { file: string; type: string }, res: ServerResponse): void {
    let body: Buffer;
    try {
      body = readFileSync(WEB_DIR + shell.file);
    } catch {
      throw new HttpError(503, 'E_INTERNAL', `the dashboard's page is not built (${WEB_DIR}${shell.file} is missing): run \`npm run build\``);
    }
    res.writeHead(200, { 'content-type': shell.type, 'content-length': body.length, 'cache-control': 'no-cache' });
    res.end(body);
  }

  function onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => socket.destroy());
    const refused = refusal(req, true);
    if (refused) {
      const { status: code, body } = errorBody(refused);
      const text = JSON.stringify(body);
      socket.end(`HTTP/1.1 ${code} Refused\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(text)}\r\nconnection: close\r\n\r\n${text}`);
      return;
    }
    opts.upgrade(req, socket, head);
  }

  return {
    status: () => status,
    handlesControl: (req) => (req.url ?? '').split('?')[0] === DASHBOARD_LOGIN_PATH,
    control(req, res) {
      try {
        if (req.method !== 'POST') throw new HttpError(405, 'E_USAGE', `${req.method} is not allowed on ${DASHBOARD_LOGIN_PATH} (allowed: POST)`);
        if (status.url === null) throw new HttpError(409, 'E_CONFLICT', status.reason ?? 'the dashboard is not listening');
        const { token, expiresAt } = auth.issueLoginToken();
        sendJson(res, 200, { url: `${status.url}login?token=${token}`, expiresAt, port: status.port, host: status.host, exposed: status.exposed });
      } catch (e) {
        sendError(res, e);
      }
    },
    async close() {
      if (!server) return;
      const srv = server;
      srv.closeAllConnections();
      await new Promise<void>((resolve) => srv.close(() => resolve()));
    },
  };
}
