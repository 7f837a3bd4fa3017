/**
 * Exit statuses of celistra-exec when it refuses before the command runs; mirrors
 * native/src/helper-exit.h. 126/127 keep the shell's meaning (cannot execute / not found).
 */
export const HELPER_EXIT = {
  usage: 120,
  landlockAbi: 121,
  namespace: 122,
  network: 123,
  ruleset: 124,
  cannotExecute: 126,
  notFound: 127,
} as const;
