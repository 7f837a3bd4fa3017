import type { ServerResponse } from 'node:http';
import { isCelistraError, type ErrorCode } from '../policy/errors.js';

/** The API's error body: `{"error": {"code", "message", "hint"?}}`. */
export interface ApiError {
  error: { code: ErrorCode; message: string; hint?: string };
}

export const HTTP_STATUS: Record<ErrorCode, number> = {
  E_USAGE: 400,
  E_WORKSPACE: 400,
  E_POLICY: 400,
  E_NO_BACKEND: 422,
  E_SPAWN: 422,
  E_GIT: 422,
  E_NOT_FOUND: 404,
  E_CONFLICT: 409,
  E_DAEMON: 503,
  E_AUDIT: 500,
  E_INTERNAL: 500,
};

/** Errors the HTTP layer itself raises (payload too large, bad method) keep their own status. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export function errorBody(e: unknown): { status: number; body: ApiError } {
  if (e instanceof HttpError) return { status: e.status, body: { error: { code: e.code, message: e.message } } };
  if (isCelistraError(e)) {
    const error: ApiError['error'] = { code: e.code, message: e.message };
    if (e.hint) error.hint = e.hint;
    return { status: HTTP_STATUS[e.code], body: { error } };
  }
  return { status: 500, body: { error: { code: 'E_INTERNAL', message: `internal error: ${(e as Error)?.message ?? String(e)}` } } };
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

export function sendError(res: ServerResponse, e: unknown): void {
  const { status, body } = errorBody(e);
  if (!res.headersSent) sendJson(res, status, body);
  else res.destroy();
}
