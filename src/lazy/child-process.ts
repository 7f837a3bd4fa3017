import { loadBuiltin } from './builtin.js';

/**
 * node:child_process, loaded on first use. With it come node:net and the stream modules,
 * ~3 ms of every `celistra run` start-up; a piped run under the Landlock backend never
 * spawns from Node (it exec's into the helper, launch-exec.ts), so it never pays that.
 */
export function childProcess(): typeof import('node:child_process') {
  return loadBuiltin<typeof import('node:child_process')>('node:child_process');
}
