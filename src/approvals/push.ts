import { createHash, createHmac, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CelistraError } from '../policy/errors.js';
import type { ApprovalView } from './request.js';

/**
 * Push to a phone (docs/approvals.md, "Push"): `<config dir>/notify.json` names an
 * ntfy-compatible topic URL and/or a webhook, where the phone's buttons call back
 * (`actionBaseUrl`), and the loopback or LAN address the daemon listens on for them.
 */
export interface PushConfig {
  ntfy?: { url: string; token?: string; priority?: number };
  webhook?: { url: string; secret: string };
  /** What the phone can reach; the action URLs are `<actionBaseUrl>/v1/push/<token>`. */
  actionBaseUrl: string;
  /** host:port the receiver listens on (e.g. `127.0.0.1:7717` behind a tunnel or proxy). */
  listen: string;
}

export function loadPushConfig(configDir: string): PushConfig | undefined {
  const path = join(configDir, 'notify.json');
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(text) as Record<string, unknown>;
  } catch (e) {
    throw new CelistraError('E_USAGE', `${path} is not JSON: ${(e as Error).message}`);
  }
  const bad = (what: string) => new CelistraError('E_USAGE', `${path}: ${what}`, 'see docs/approvals.md, "Push"');
  if (typeof o.actionBaseUrl !== 'string' || !/^https?:\/\//.test(o.actionBaseUrl)) throw bad('"actionBaseUrl" must be an http(s) URL your phone can reach');
  if (typeof o.listen !== 'string' || !/^[^:]+:\d{1,5}$/.test(o.listen)) throw bad('"listen" must be host:port');
  const ntfy = o.ntfy as PushConfig['ntfy'] | undefined;
  if (ntfy !== undefined && (typeof ntfy?.url !== 'string' || !/^https?:\/\//.test(ntfy.url))) throw bad('"ntfy.url" must be the topic URL, e.g. https://ntfy.example/celistra');
  const webhook = o.webhook as PushConfig['webhook'] | undefined;
  if (webhook !== undefined && (typeof webhook?.url !== 'string' || typeof webhook.secret !== 'string' || webhook.secret.length < 16)) throw bad('"webhook" needs "url" and a "secret" of at least 16 characters');
  return { ntfy, webhook, actionBaseUrl: o.actionBaseUrl.replace(/\/+$/, ''), listen: o.listen };
}

export type TokenCheck = { ok: true; id: string; decision: 'approved' | 'denied' } | { ok: false; why: 'forged' | 'replayed' | 'expired' };

/**
 * Single-use action tokens: each is 256 random bits, scoped to one request and one
 * answer, valid until the request expires. Only their hashes are kept. Using either of a
 * request's two tokens spends both; a spent token is remembered (as a hash) until it
 * would have expired, so a replay is told apart from a forgery.
 */
export class ActionTokens {
  private readonly live = new Map<string, { id: string; decision: 'approved' | 'denied'; expires: number }>();
  /** Hash → until when it is remembered, and what using it again is. */
  private readonly spent = new Map<string, { expires: number; why: 'replayed' | 'expired' }>();

  constructor(private readonly now: () => number = Date.now) {}

  issue(id: string, expires: number): { approve: string; deny: string } {
    this.forgetOld();
    const approve = randomBytes(32).toString('base64url');
    const deny = randomBytes(32).toString('base64url');
    this.live.set(hash(approve), { id, decision: 'approved', expires });
    this.live.set(hash(deny), { id, decision: 'denied', expires });
    return { approve, deny };
  }

  use(token: string): TokenCheck {
    const h = hash(token);
    const t = this.live.get(h);
    if (!t) return { ok: false, why: this.spent.get(h)?.why ?? 'forged' };
    if (t.expires <= this.now()) {
      this.spendRequest(t.id, 'expired');
      return { ok: false, why: 'expired' };
    }
    this.spendRequest(t.id);
    return { ok: true, id: t.id, decision: t.decision };
  }

  /** The request was answered (here or elsewhere) or expired: its buttons stop working. */
  spendRequest(id: string, why: 'replayed' | 'expired' = 'replayed'): void {
    for (const [h, t] of this.live) {
      if (t.id !== id) continue;
      this.live.delete(h);
      this.spent.set(h, { expires: t.expires, why });
    }
  }

  private forgetOld(): void {
    const now = this.now();
    for (const [h, t] of this.spent) if (t.expires + 24 * 3600_000 < now) this.spent.delete(h);
  }
}

function hash(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** Publish one request to the configured services; failures are reported, never thrown. */
export async function publish(config: PushConfig, a: ApprovalView, tokens: { approve: string; deny: string }): Promise<string[]> {
  const approveUrl = `${config.actionBaseUrl}/v1/push/${tokens.approve}`;
  const denyUrl = `${config.actionBaseUrl}/v1/push/${tokens.deny}`;
  const failures: string[] = [];
  const title = `${a.agent} [${a.task}] asks: ${a.tool}`;
  if (config.ntfy) {
    const headers: Record<string, string> = {
      Title: headerSafe(title),
      Priority: String(config.ntfy.priority ?? 4),
      Tags: 'robot',
      Actions: `http, Approve, ${approveUrl}, method=POST, clear=true; http, Deny, ${denyUrl}, method=POST, clear=true`,
    };
    if (config.ntfy.token) headers.Authorization = `Bearer ${config.ntfy.token}`;
    await post(config.ntfy.url, `${a.text}${a.detail ? `\n\n${a.detail}` : ''}`, headers).catch((e: Error) => failures.push(`ntfy: ${e.message}`));
  }
  if (config.webhook) {
    const body = JSON.stringify({ type: 'approval-request', approval: a, actions: { approve: approveUrl, deny: denyUrl } });
    const signature = createHmac('sha256', config.webhook.secret).update(body).digest('hex');
    await post(config.webhook.url, body, { 'content-type': 'application/json', 'x-celistra-signature': `sha256=${signature}` }).catch((e: Error) => failures.push(`webhook: ${e.message}`));
  }
  return failures;
}

async function post(url: string, body: string, headers: Record<string, string>): Promise<void> {
  const res = await fetch(url, { method: 'POST', body, headers, signal: AbortSignal.timeout(10_000) });
  if (!res.ok) throw new Error(`${url} answered ${res.status}`);
}

/** HTTP header values are Latin-1 and one line. */
function headerSafe(s: string): string {
  return s.replace(/[^\x20-\x7e]/g, '?').slice(0, 200);
}
