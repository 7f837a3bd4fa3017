#!/usr/bin/env node
// `celistrad` is the same program as `celistra`; with no arguments it runs the daemon.
if (process.argv.length <= 2) process.argv.push('daemon');
await import('../dist/src/cli/main.js');
