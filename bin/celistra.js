#!/usr/bin/env node
// `celistra run` takes a bundled fast path (dist/run/run-entry.mjs) unless help is asked for;
// everything else loads the full CLI.
const args = process.argv.slice(2);
const dash = args.indexOf('--');
const own = dash === -1 ? args : args.slice(0, dash);
const fast = own[0] === 'run' && !own.includes('--help') && !own.includes('-h');
if (fast) {
  try {
    await import('../dist/run/run-entry.mjs');
  } catch (e) {
    if (e?.code !== 'ERR_MODULE_NOT_FOUND' || !String(e.message).includes('run-entry.mjs')) throw e;
    await import('../dist/src/cli/main.js');
  }
} else {
  await import('../dist/src/cli/main.js');
}
