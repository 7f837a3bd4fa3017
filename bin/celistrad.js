#!/usr/bin/env node
'use strict';
// `celistrad` is the same program as `celistra`; with no arguments it runs the daemon.
if (process.argv.length <= 2) process.argv.push('daemon');
import('../dist/src/cli/main.js').catch((e) => {
  process.stderr.write(`celistrad: ${e && e.message ? e.message : e}\n`);
  process.exit(79); // E_INTERNAL (src/cli/exit-codes.ts)
});
