/**
 * Containment of exceptions thrown by @xterm/headless's own code. The screen model is a
 * convenience for attaching clients; a bug in the emulator must never take the agent
 * down with it. Known case: xterm 6.0 with `scrollback: 0` can leave its buffer shorter
 * than the screen after certain resizes, and the next line feed throws
 * "Cannot set properties of undefined (setting 'isWrapped')".
 */

interface ParserEntry {
  parse?: (data: string | Uint8Array, promiseResult?: boolean) => void | Promise<boolean>;
}

/**
 * Parsing runs in xterm's own timers, so an exception there is uncaught and, worse,
 * leaves xterm's write queue stuck (no further write callback ever runs). Wrapping the
 * input handler's parse turns such a throw into `onThrow` in place; after it, the
 * terminal parses nothing more (its state is corrupt) but the write queue keeps
 * draining, so no write callback is lost. The returned `stop` makes parsing a no-op
 * too: a disposed xterm terminal still parses everything queued in it. Returns
 * undefined when the internals are not there (another xterm version): the holder's
 * uncaught-exception guard is then the only net.
 */
export function guardParser(term: object, onThrow: (error: unknown) => void): (() => void) | undefined {
  const handler = (term as { _core?: { _inputHandler?: ParserEntry } })._core?._inputHandler;
  const parse = handler?.parse;
  if (!handler || typeof parse !== 'function') return undefined;
  let stopped = false;
  handler.parse = (data, promiseResult) => {
    if (stopped) return;
    try {
      return parse.call(handler, data, promiseResult);
    } catch (e) {
      stopped = true;
      onThrow(e);
      return;
    }
  };
  return () => {
    stopped = true;
  };
}

/**
 * Whether an error was thrown by xterm's own code (its top stack frame is in an @xterm
 * package), as opposed to our code called back from one of xterm's timers.
 */
export function isXtermError(error: unknown): boolean {
  if (!(error instanceof Error) || typeof error.stack !== 'string') return false;
  const topFrame = error.stack.split('\n').find((line) => line.trimStart().startsWith('at '));
  return topFrame !== undefined && /[/\\]node_modules[/\\]@xterm[/\\]/.test(topFrame);
}
