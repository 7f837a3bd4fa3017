import { createServer, type Server } from 'node:http';
import { isCelistraError } from '../policy/errors.js';
import { ActionTokens, publish, type PushConfig } from './push.js';
import type { ApprovalAudit, ApprovalQueue } from './queue.js';

/** Refused presses audited per minute; past that they are only counted (a flood must not flood the log). */
const REFUSALS_AUDITED_PER_MINUTE = 20;
const TOKEN = /^\/v1\/push\/([A-Za-z0-9_-]{43})$/;

export interface PushReceiver {
  /** Where it listens (the port is the real one when the config said 0). */
  address: string;
  close(): Promise<void>;
}

/**
 * Publishes each new request to the phone and takes the phone's answer: an HTTP listener
 * (`listen` in notify.json) that serves one thing, `POST /v1/push/<token>`. A token is
 * single-use and answers only its own request, and only the way it was issued for;
 * forged, replayed and expired tokens are refused and audited.
 */
export async function startPushReceiver(config: PushConfig, queue: ApprovalQueue, audit: ApprovalAudit, tokens = new ActionTokens()): Promise<PushReceiver> {
  let refusals = 0;
  let windowStart = Date.now();
  const refuse = (why: string, data: Record<string, unknown> = {}) => {
    if (Date.now() - windowStart > 60_000) {
      windowStart = Date.now();
      refusals = 0;
    }
    if (++refusals <= REFUSALS_AUDITED_PER_MINUTE) audit.record({ type: 'approval', data: { action: 'push-refused', why, ...data } });
  };
  const unsubscribe = queue.subscribe((e) => {
    if (e.type === 'decision') {
      tokens.spendRequest(e.approval.id, e.approval.state === 'expired' ? 'expired' : 'replayed');
      return;
    }
    const a = e.approval;
    void publish(config, a, tokens.issue(a.id, a.expires)).then((failures) => {
      if (failures.length) audit.record({ type: 'approval', agent: a.agent, data: { action: 'push-failed', id: a.id, failures } });
    });
  });
  const server: Server = createServer({ requestTimeout: 10_000, headersTimeout: 5_000 }, (req, res) => {
    const reply = (status: number, text: string) => {
      res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(`${text}\n`);
    };
    req.resume();
    const m = TOKEN.exec(req.url ?? '');
    if (req.method !== 'POST' || !m) return reply(404, 'not found');
    const check = tokens.use(m[1]!);
    if (!check.ok) {
      refuse(check.why);
      return reply(check.why === 'forged' ? 403 : 410, `refused: ${check.why} token`);
    }
    try {
      const a = queue.answer(check.id, check.decision, { by: 'phone' });
      return reply(200, `${a.state}: ${a.agent} [${a.task}] ${a.tool}`);
    } catch (e) {
      // Answered elsewhere in the meantime, or gone: the button is stale.
      refuse('stale', { id: check.id });
      return reply(isCelistraError(e) && e.code === 'E_NOT_FOUND' ? 404 : 409, `refused: ${isCelistraError(e) ? e.message : 'error'}`);
    }
  });
  const [host, port] = [config.listen.slice(0, config.listen.lastIndexOf(':')), Number(config.listen.slice(config.listen.lastIndexOf(':') + 1))];
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const addr = server.address();
  return {
    address: typeof addr === 'object' && addr ? `${addr.address}:${addr.port}` : config.listen,
    async close() {
      unsubscribe();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
