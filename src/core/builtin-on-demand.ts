import { createRequire } from 'node:module';

/**
 * A Node builtin, loaded the first time a caller needs it. Several cost milliseconds to
 * load (node:child_process and node:tty bring node:net and the streams, node:crypto ~5 ms),
 * which `celistra run` pays only on the paths that use them. process.getBuiltinModule
 * (Node 20.16+) needs no require function; older Node 20 gets one, made on first use.
 */
let requireFn: NodeRequire | undefined;

export function loadBuiltin<T>(name: `node:${string}`): T {
  const direct = (process as { getBuiltinModule?: (id: string) => unknown }).getBuiltinModule;
  if (direct) return direct(name) as T;
  requireFn ??= createRequire(import.meta.url);
  return requireFn(name) as T;
}
