import { loadBuiltin } from './builtin.js';

/**
 * node:os, loaded on first use: ~0.3 ms that `celistra run` would pay on every start for
 * answers it rarely needs (HOME and XDG_RUNTIME_DIR are usually set; signal numbers only
 * matter once a child has died from one).
 */
export function os(): typeof import('node:os') {
  return loadBuiltin<typeof import('node:os')>('node:os');
}
