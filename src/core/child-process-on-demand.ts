import { createRequire } from 'node:module';

/**
 * node:child_process, loaded on first use. With it come node:net and the stream modules,
 * ~3 ms of every `celistra run` start-up; a piped run under the Landlock backend never
 * spawns from Node (it exec's into the helper, launch-exec.ts), so it never pays that.
 */
const load = createRequire(import.meta.url);
let module: typeof import('node:child_process') | undefined;

export function childProcess(): typeof import('node:child_process') {
  module ??= load('node:child_process') as typeof import('node:child_process');
  return module;
}
