// Bundles the `celistra run` fast path into dist/run/: resolving and compiling a few dozen
// ES modules costs more start-up time than the sandbox itself.
// - run-entry.cjs: the run command with everything it imports, CommonJS so that
//   run-loader can start it through V8's code cache (src/cli/run-loader.ts).
// - run-audit-log.cjs: the audit log with its SQLite part, a file of its own. `run`
//   needs it only when the audit spool cannot be written, or for one run in
//   SPOOL_INTAKE_THRESHOLD (src/run/audit.ts); in run-entry.cjs it was a third of
//   what every run reads and V8 deserialises from the code cache.
// - run-loader.cjs: that loader, small and compiled normally.
// The seccomp filter every run hands its backend is assembled here, once per variant, and
// embedded (src/backends/seccomp/fence-filter.ts): same programs, ~0.6 ms less per run.
import { rmSync } from 'node:fs';
import { build } from 'esbuild';
import { assembleFenceFilter, FENCE_FILTER_VARIANTS, fenceFilterKey } from '../dist/src/backends/seccomp/fence-filter.js';

rmSync('dist/run', { recursive: true, force: true });

const common = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  outExtension: { '.js': '.cjs' },
  outdir: 'dist/run',
  logLevel: 'warning',
  // import() of bundled or external code becomes require(): no ES module loader at all.
  supported: { 'dynamic-import': false },
};

// import.meta does not exist in CommonJS; the modules use it only for their own location.
// The URL is made on first use: node:url's first pathToFileURL costs ~0.5 ms, and a run's
// hot path asks only for the directory.
const moduleUrl = {
  define: {
    'import.meta.url': '__celistraModule.url',
    'import.meta.dirname': '__dirname',
    __CELISTRA_FENCE_FILTERS_HEX__: JSON.stringify(Object.fromEntries(FENCE_FILTER_VARIANTS.map((o) => [fenceFilterKey(o), assembleFenceFilter(o).toString('hex')]))),
  },
  banner: { js: "const __celistraModule = { get url() { return require('node:url').pathToFileURL(__filename).href; } };" },
};

const AUDIT_LOG_CHUNK = './run-audit-log.cjs';

/** run/audit.js's `import('../audit/index.js')` loads the separate chunk instead. */
const auditLogApart = {
  name: 'audit-log-apart',
  setup(b) {
    b.onResolve({ filter: /^\.\.\/audit\/index\.js$/ }, (args) => (args.importer.endsWith('/run/audit.js') ? { path: AUDIT_LOG_CHUNK, external: true } : undefined));
  },
};

await build({ ...common, ...moduleUrl, entryPoints: ['dist/src/cli/run-entry.js'], external: ['node-pty', 'bindings', '@xterm/*', 'ws'], plugins: [auditLogApart] });
await build({ ...common, ...moduleUrl, entryPoints: { 'run-audit-log': 'dist/src/audit/index.js' }, external: ['bindings'] });
await build({ ...common, entryPoints: ['dist/src/cli/run-loader.js'] });

// The browser dashboard's page, in dist/web/.
await import('./bundle-web.js');
