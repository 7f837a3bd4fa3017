/**
 * A Node builtin, loaded the first time a caller needs it. Several cost milliseconds to
 * load (node:child_process and node:tty bring node:net and the streams, node:crypto ~5 ms,
 * node:os ~0.3 ms), which `celistra run` pays only on the paths that use them.
 * process.getBuiltinModule (Node 20.16+, the oldest Node Celistra supports: bin/celistra.js
 * checks) needs no require function: importing node:module for createRequire would cost
 * ~0.5 ms of every run by itself, as it brings Node's ES module loader along.
 */
export function loadBuiltin<T>(name: `node:${string}`): T {
  return (process as unknown as { getBuiltinModule(id: string): unknown }).getBuiltinModule(name) as T;
}
