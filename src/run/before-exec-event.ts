import type { EventEmitter } from 'node:events';

/**
 * Emitted on `process` just before `celistra run` exec's into celistra-exec
 * (launch-exec.ts): the process ends without 'exit', so whatever waits for 'exit' (the
 * code cache, src/cli/run-loader.ts) listens for this too.
 */
export const BEFORE_EXEC_EVENT = 'celistra:before-exec';

export function emitBeforeExec(): void {
  (process as EventEmitter).emit(BEFORE_EXEC_EVENT);
}

export function onBeforeExec(listener: () => void): void {
  (process as EventEmitter).once(BEFORE_EXEC_EVENT, listener);
}
