// Bundles the `celistra run` fast path into dist/run/: resolving and compiling a few dozen
// ES modules costs more start-up time than the sandbox itself.
// - run-entry.cjs: the run command with everything it imports, CommonJS so that
//   run-loader can start it through V8's code cache (src/cli/run-loader.ts). The audit
//   log's SQLite part is in it but evaluated only if the audit spool cannot be written.
// - run-loader.cjs: that loader, small and compiled normally.
import { rmSync } from 'node:fs';
import { build } from 'esbuild';

rmSync('dist/run', { recursive: true, force: true });

const common = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  outExtension: { '.js': '.cjs' },
  outdir: 'dist/run',
  logLevel: 'warning',
  // import.meta does not exist in CommonJS; the modules use it only for their own URL.
  define: { 'import.meta.url': '__celistraModuleUrl' },
  banner: { js: "const __celistraModuleUrl = require('node:url').pathToFileURL(__filename).href;" },
  // import() of bundled or external code becomes require(): no ES module loader at all.
  supported: { 'dynamic-import': false },
};

await build({ ...common, entryPoints: ['dist/src/cli/run-entry.js'], external: ['node-pty', 'bindings', '@xterm/*', 'ws'] });
await build({ ...common, entryPoints: ['dist/src/cli/run-loader.js'] });
