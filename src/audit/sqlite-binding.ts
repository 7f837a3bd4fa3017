import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

let cached: string | null | undefined;

/**
 * The path of better-sqlite3's compiled addon, handed to `new Database(path,
 * { nativeBinding })`. Without it better-sqlite3 asks the `bindings` package, which
 * probes a dozen paths and parses a stack trace on every process start — a cost every
 * `celistra run` pays before it can record its exit. Undefined when not found (the
 * default lookup then runs).
 */
export function sqliteNativeBinding(): string | undefined {
  if (cached !== undefined) return cached ?? undefined;
  try {
    const pkg = createRequire(import.meta.url).resolve('better-sqlite3/package.json');
    const addon = join(dirname(pkg), 'build', 'Release', 'better_sqlite3.node');
    cached = existsSync(addon) ? addon : null;
  } catch {
    cached = null;
  }
  return cached ?? undefined;
}
