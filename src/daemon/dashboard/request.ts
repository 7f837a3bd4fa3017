import type { IncomingMessage } from 'node:http';

/**
 * Requests that came in through the dashboard's listener (after its Host, session and
 * Origin checks). The router is shared with the unix socket; what it must tell apart is
 * who answers an approval: a browser is recorded as `dashboard`, whatever its body says.
 */
const fromDashboard = new WeakSet<IncomingMessage>();

export function markFromDashboard(req: IncomingMessage): void {
  fromDashboard.add(req);
}

export function isFromDashboard(req: IncomingMessage): boolean {
  return fromDashboard.has(req);
}
