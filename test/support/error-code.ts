import { CelistraError } from '../../src/policy/errors.js';

/** The CelistraError code `fn` throws, or undefined when it returns; any other error is rethrown. */
export function errorCode(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    if (e instanceof CelistraError) return e.code;
    throw e;
  }
  return undefined;
}
