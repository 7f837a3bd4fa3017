#!/usr/bin/env node
'use strict';
// CommonJS (bin/package.json), so `celistra run` starts without Node's ES module loader.
// `run` takes the bundled fast path (dist/run/, built by scripts/bundle.js) unless help is
// asked for; everything else loads the full CLI.
const { join } = require('node:path');

// process.getBuiltinModule (20.16+) is how the run path loads builtins on demand
// (src/core/builtin-on-demand.ts); say so plainly rather than fail in the middle of a run.
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

let loader;
if (fast) {
  try {
    loader = require('../dist/run/run-loader.cjs');
  } catch (e) {
    // Built with tsc alone (no bundle): the full CLI runs `run` too, only slower.
    if (!e || e.code !== 'MODULE_NOT_FOUND') throw e;
  }
}
if (loader) loader.runBundle(join(__dirname, '..', 'dist', 'run', 'run-entry.cjs'));
else fullCli();
