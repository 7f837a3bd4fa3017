#!/usr/bin/env node
'use strict';
// CommonJS (bin/package.json), so `celistra run` starts without Node's ES module loader.
// `run` takes the bundled fast path (dist/run/, built by scripts/bundle.js) unless help is
// asked for; everything else loads the full CLI.
const { join } = require('node:path');

// process.getBuiltinModule (20.16+) is how the run path loads builtins on demand
// (src/lazy/builtin.ts); say so plainly rather than fail in the middle of a run.
if (typeof process.getBuiltinModule !== 'function') {
  process.stderr.write(`celistra: needs Node.js 20.16 or newer (this is ${process.version})\n`);
  process.exit(79); // E_INTERNAL (src/cli/exit-codes.ts)
}

const args = process.argv.slice(2);
const dash = args.indexOf('--');
const own = dash === -1 ? args : args.slice(0, dash);
const fast = own[0] === 'run' && !own.includes('--help') && !own.includes('-h');

function fullCli() {
  import('../dist/src/cli/main.js').catch((e) => {
    process.stderr.write(`celistra: ${e && e.message ? e.message : e}\n`);
    process.exit(79); // E_INTERNAL (src/cli/exit-codes.ts)
  });
}

/**
 * dist/run/run-loader.cjs, compiled here rather than require()d: Node's module loader
 * (resolving, realpath, a Module) cost up to ~0.6 ms a run for this one file in our
 * measurements (docs/benchmarks/run.md). Relative requires in it resolve beside it, as
 * its own require would; bare ones (node-pty, ws) find the same node_modules from bin/ as
 * from dist/run/. Undefined when the bundle was not built (tsc alone): the full CLI runs
 * `run` too, only slower.
 */
function runLoader() {
  const runDir = join(__dirname, '..', 'dist', 'run');
  const file = join(runDir, 'run-loader.cjs');
  let source;
  try {
    source = require('node:fs').readFileSync(file, 'utf8');
  } catch (e) {
    if (e && e.code === 'ENOENT') return undefined;
    throw e;
  }
  const module = { exports: {} };
  const requireBeside = (id) => require(id.startsWith('.') ? join(runDir, id) : id);
  const wrapper = require('node:vm').compileFunction(source, ['exports', 'require', 'module', '__filename', '__dirname'], { filename: file });
  wrapper(module.exports, requireBeside, module, file, runDir);
  return module.exports;
}

const loader = fast ? runLoader() : undefined;
if (loader) loader.runBundle(join(__dirname, '..', 'dist', 'run', 'run-entry.cjs'));
else fullCli();
