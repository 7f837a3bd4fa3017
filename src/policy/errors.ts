/**
 * Errors are values with a stable code and a message written for a person.
 * The CLI maps codes to exit statuses in one place (src/cli/exit-codes.ts), so a
 * script can tell "the agent failed" from "Celistra refused".
 */
export type ErrorCode =
  | 'E_USAGE' // bad flags or arguments
  | 'E_WORKSPACE' // workspace missing, not a directory, or dangerous
  | 'E_POLICY' // a policy that cannot be built (bad path, unknown preset)
  | 'E_NO_BACKEND' // the chosen backend cannot enforce the policy on this machine
  | 'E_SPAWN' // the command could not be started
  | 'E_GIT' // a git operation refused or failed
  | 'E_NOT_FOUND' // an agent, worktree or record that does not exist
  | 'E_CONFLICT' // a name in use, a second daemon, a dirty checkout
  | 'E_DAEMON' // the daemon is unreachable or answered with an error
  | 'E_AUDIT' // the audit log is damaged or its chain does not verify
  | 'E_INTERNAL';

export class CelistraError extends Error {
  readonly code: ErrorCode;
  /** How to fix it, shown on its own line after the message. */
  readonly hint?: string;

  constructor(code: ErrorCode, message: string, hint?: string) {
    super(message);
    this.name = 'CelistraError';
    this.code = code;
    this.hint = hint;
  }
}

export function isCelistraError(e: unknown): e is CelistraError {
  return e instanceof CelistraError;
}
