// Bundles the `celistra run` fast path into one file (dist/run.mjs): resolving and
// compiling a few dozen ES modules costs more start-up time than the sandbox itself.
// Code splitting keeps lazily imported parts (the audit log and its SQLite, the PTY)
// in their own chunks, so they load only when used. better-sqlite3's JavaScript is
// bundled too (its addon is loaded by path, see src/core/sqlite-binding.ts).
import { rmSync } from 'node:fs';
import { build } from 'esbuild';

// Chunk names carry content hashes: start clean so stale chunks do not pile up.
rmSync('dist/run', { recursive: true, force: true });

await build({
  entryPoints: ['dist/src/cli/run-entry.js'],
  outdir: 'dist/run',
  splitting: true,
  entryNames: '[name]',
  outExtension: { '.js': '.mjs' },
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: ['node-pty', 'bindings', '@xterm/*', 'ws'],
  logLevel: 'warning',
  // A bundle in ESM has no `require`; some bundled CommonJS dependencies need one.
  banner: { js: "import { createRequire as __celistraCreateRequire } from 'node:module'; const require = __celistraCreateRequire(import.meta.url);" },
});
