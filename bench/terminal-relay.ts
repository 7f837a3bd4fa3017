// What relaying the user's terminal costs (src/run/terminal-stdin.ts, docs/security.md
// "Inherited stdio": a terminal is never handed to a fenced command), beside handing the
// terminal over as the build before did (--baseline DIR: DIR/bin/celistra.js, a build from
// before the change, the main checkout say). Each run gets a fresh pty as its controlling
// terminal (conformance/pty-terminal.ts), as at a prompt:
// - `true </dev/null` with stdout and stderr on the terminal: a run's fixed cost;
// - `true > file` with stdin on the terminal: the stdin relay's fixed cost;
// - `head -c N /dev/zero | base64` onto the terminal: output throughput (a pty's reader,
//   here the harness, is the ceiling).
// Variants run round-robin in a fresh random order each round, so machine noise hits all
// of them alike. Wall time is from the harness's spawn to its seeing the exit (2 ms polls).
// Usage: node dist/bench/terminal-relay.js [runs] [--mb N] [--baseline DIR]
import { rmSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runOnTerminal } from '../conformance/pty-terminal.js';
import { machineLine, median, percentile } from './stats.js';
import { relayBenchArgs, relayBenchScratch } from './relay-bench-setup.js';

const { runs, mb, baselineDir } = relayBenchArgs(2);
const root = fileURLToPath(new URL('../..', import.meta.url));
const { scratch, ws, env } = relayBenchScratch('celistra-bench-tty-');
const files = [0, 1, 2].map((i) => join(scratch, `stdio-${i}`));
for (const f of files) writeFileSync(f, '');

/** What a run does, on which layout (stdin, stdout, stderr: t terminal, n /dev/null, f file). */
const workloads = [
  { name: 'true, stdout+stderr on the terminal', layout: 'ntt', command: 'true', bytes: 0 },
  { name: 'true, stdin on the terminal', layout: 'tff', command: 'true', bytes: 0 },
  { name: `${mb} MB of base64 onto the terminal`, layout: 'ntt', command: `head -c ${(mb * 1024 * 1024 * 3) / 4} /dev/zero | base64 -w 76`, bytes: mb * 1024 * 1024 },
];

interface Variant {
  name: string;
  workload: (typeof workloads)[number];
  argv: string[];
}

const variants: Variant[] = [];
for (const w of workloads) {
  variants.push({ name: `${w.name} | unfenced`, workload: w, argv: ['sh', '-c', w.command] });
  for (const backend of ['landlock', 'bwrap']) {
    const run = (dir: string) => [process.execPath, join(dir, 'bin', 'celistra.js'), 'run', '--backend', backend, '--workspace', ws, '--', 'sh', '-c', w.command];
    variants.push({ name: `${w.name} | ${backend}: relayed`, workload: w, argv: run(root) });
    if (baselineDir) variants.push({ name: `${w.name} | ${backend}: baseline (terminal handed over)`, workload: w, argv: run(baselineDir) });
  }
}

function once(v: Variant): number {
  const r = runOnTerminal({ layout: v.workload.layout, files, argv: v.argv, env, cwd: scratch, timeoutMs: 120_000 });
  if (r.status !== 0) throw new Error(`${v.name} failed (${r.status}): ${r.terminal.slice(0, 300)}`);
  // The terminal turns \n into \r\n: count what arrived without the \r.
  const got = r.terminal.replace(/\r/g, '').length;
  if (v.workload.bytes && got < v.workload.bytes) throw new Error(`${v.name}: ${got} bytes reached the terminal, not ${v.workload.bytes}`);
  return r.ms;
}

const samples = new Map(variants.map((v) => [v.name, [] as number[]]));
for (const v of variants) once(v); // warm caches (code cache, probe caches, page cache)
const load: number[] = [];
for (let i = 0; i < runs; i++) {
  for (const v of [...variants].sort(() => Math.random() - 0.5)) samples.get(v.name)!.push(once(v));
  load.push(loadavg()[0]!);
}
rmSync(scratch, { recursive: true, force: true });

console.log(`terminal relay vs terminal handed over; ${runs} rounds; ${machineLine()}; load ${Math.min(...load).toFixed(1)}–${Math.max(...load).toFixed(1)}`);
console.log('| workload | variant | wall median ms | wall p90 ms | × unfenced |');
console.log('|---|---|---|---|---|');
for (const w of workloads) {
  const floor = median(samples.get(`${w.name} | unfenced`)!);
  for (const v of variants.filter((x) => x.workload === w)) {
    const s = samples.get(v.name)!;
    const [, variant] = v.name.split(' | ');
    console.log(`| ${w.name} | ${variant} | ${median(s).toFixed(0)} | ${percentile(s, 90).toFixed(0)} | ${(median(s) / floor).toFixed(2)} |`);
  }
}
