import type { ErrorCode } from '../policy/errors.js';

/**
 * Exit statuses of Celistra itself. They sit in 64..79 (BSD sysexits range) so they
 * do not collide with a child's own status (passed through as-is) or with 128+n
 * (a child killed by signal n).
 */
export const EXIT_CODES: Record<ErrorCode, number> = {
  E_USAGE: 64,
  E_WORKSPACE: 65,
  E_POLICY: 66,
  E_NO_BACKEND: 67,
  E_SPAWN: 68,
  E_GIT: 69,
  E_NOT_FOUND: 70,
  E_CONFLICT: 71,
  E_DAEMON: 72,
  E_AUDIT: 73,
  E_INTERNAL: 79,
};

export const EXIT_CODES_HELP = `Exit status:
  the command's own status     when it ran (a signal n gives 128+n)
  64  usage error              65  bad or dangerous workspace
  66  policy cannot be built   67  no backend can enforce the policy here
  68  command could not start  69  git refused or failed
  70  not found                71  conflict (name in use, dirty checkout, daemon running)
  72  daemon unreachable       73  audit log damaged / chain broken
  79  internal error`;
