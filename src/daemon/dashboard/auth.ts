import { createHash, randomBytes } from 'node:crypto';

/** How long the URL `celistra dashboard` prints can be used: long enough to click it. */
export const LOGIN_TOKEN_TTL_MS = 60_000;
/** A browser session lasts this long after its login, then `celistra dashboard` again. */
export const SESSION_TTL_MS = 12 * 60 * 60 * 1000;
export const SESSION_COOKIE = 'celistra_session';

/**
 * The dashboard's credentials, in the daemon's memory only (a daemon restart logs every
 * browser out). A login token is handed out over the unix socket (0600: being able to
 * connect is the authorisation), used once within LOGIN_TOKEN_TTL_MS, and exchanged for a
 * session id that the browser keeps in an HttpOnly cookie. Only SHA-256 digests are
 * kept, so a lookup compares digests, never the secret itself byte by byte.
 */
export class DashboardAuth {
  private readonly tokens = new Map<string, number>();
  private readonly sessions = new Map<string, number>();

  constructor(private readonly now: () => number = Date.now) {}

  issueLoginToken(): { token: string; expiresAt: number } {
    this.prune();
    const token = randomBytes(32).toString('base64url');
    const expiresAt = this.now() + LOGIN_TOKEN_TTL_MS;
    this.tokens.set(digest(token), expiresAt);
    return { token, expiresAt };
  }

  /** The session id for a valid, unused, unexpired token; the token is spent either way. */
  exchange(token: string): string | undefined {
    const key = digest(token);
    const expiresAt = this.tokens.get(key);
    this.tokens.delete(key);
    if (expiresAt === undefined || expiresAt < this.now()) return undefined;
    const session = randomBytes(32).toString('base64url');
    this.sessions.set(digest(session), this.now() + SESSION_TTL_MS);
    return session;
  }

  isSession(session: string | undefined): boolean {
    if (!session) return false;
    const expiresAt = this.sessions.get(digest(session));
    return expiresAt !== undefined && expiresAt >= this.now();
  }

  private prune(): void {
    const now = this.now();
    for (const [k, t] of this.tokens) if (t < now) this.tokens.delete(k);
    for (const [k, t] of this.sessions) if (t < now) this.sessions.delete(k);
  }
}

function digest(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

/** The session cookie's value in a Cookie header, if any. */
export function sessionFromCookie(header: string | undefined): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq !== -1 && part.slice(0, eq).trim() === SESSION_COOKIE) return part.slice(eq + 1).trim();
  }
  return undefined;
}

export function sessionCookie(session: string): string {
  return `${SESSION_COOKIE}=${session}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${SESSION_TTL_MS / 1000}`;
}
