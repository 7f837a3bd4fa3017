#!/usr/bin/env node
// Runs a command as on a machine without some optional tools, to prove that the tests
// needing them skip with a reason instead of failing:
//   node scripts/without-tools.js bwrap,socat -- node --test dist/test/daemon-denials.test.js
// Each directory of PATH is replaced by a temporary one holding links to everything in it
// except the named tools; the tools themselves are left untouched. Not shipped.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { delimiter, join } from 'node:path';

const dash = process.argv.indexOf('--');
const tools = new Set((process.argv[2] ?? '').split(',').filter(Boolean));
if (dash !== 3 || tools.size === 0 || dash === process.argv.length - 1) {
  process.stderr.write('usage: node scripts/without-tools.js TOOL[,TOOL...] -- COMMAND [ARG...]\n');
  process.exit(2);
}

// Under /var/tmp, not /tmp: the backends give fenced commands a private /tmp, which would
// hide the links from the commands the tests run in the fence.
const shadow = mkdtempSync('/var/tmp/celistra-without-');
const dirs = (process.env.PATH ?? '').split(delimiter).filter(Boolean);
const path = dirs.map((dir, i) => {
  const copy = join(shadow, String(i));
  mkdirSync(copy);
  let names = [];
  try {
    names = readdirSync(dir);
  } catch {
    // A PATH entry that does not exist stays out, as it contributes nothing.
  }
  for (const name of names) if (!tools.has(name)) symlinkSync(join(dir, name), join(copy, name));
  return copy;
});

const [cmd, ...args] = process.argv.slice(dash + 1);
const r = spawnSync(cmd, args, { stdio: 'inherit', env: { ...process.env, PATH: path.join(delimiter) } });
rmSync(shadow, { recursive: true, force: true });
if (r.error) process.stderr.write(`without-tools: ${cmd}: ${r.error.message}\n`);
process.exit(r.status ?? 1);
