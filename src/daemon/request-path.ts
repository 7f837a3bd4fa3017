import type { IncomingMessage } from 'node:http';

/** The path of a request (an upgrade's, to tell which WebSocket endpoint it is for); undefined for a malformed URL. */
export function requestPath(req: IncomingMessage): string | undefined {
  try {
    return new URL(req.url ?? '/', 'http://celistra').pathname;
  } catch {
    return undefined;
  }
}
