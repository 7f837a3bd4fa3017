// What the stdio relay costs (src/run/stdio-relay.ts): `celistra run ... > file`
// of N MB, where the fenced command writes into a pipe and Celistra copies it into the
// file, beside the same output through a pipe the caller reads (`celistra run ... | cat >
// file`: under landlock the run hands itself over to celistra-exec, no Node process
// copies), the unfenced command, and, with --baseline, an earlier build that handed the
// file itself to the command. Variants run round-robin in a fresh random order each
// round, so machine noise hits all of them alike.
// Usage: node dist/bench/stdio-relay.js [runs] [--mb N] [--baseline DIR]
//   --baseline DIR  DIR/bin/celistra.js, a build from before the relay (the main checkout
//                   before the relay was merged, say), timed on `> file` too.
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, statSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { machineLine, median, percentile } from './stats.js';
import { relayBenchArgs, relayBenchScratch } from './relay-bench-setup.js';

const { runs, mb, baselineDir } = relayBenchArgs(100);
const root = fileURLToPath(new URL('../..', import.meta.url));
const celistra = join(root, 'bin', 'celistra.js');
const { scratch, ws, env } = relayBenchScratch('celistra-bench-relay-');

const bytes = mb * 1024 * 1024;
const command = `head -c ${bytes} /dev/zero`;
const out = join(scratch, 'out');
const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
const run = (bin: string, backend: string) => `${q(process.execPath)} ${q(bin)} run --backend ${backend} --workspace ${q(ws)} -- sh -c ${q(command)}`;

interface Variant {
  name: string;
  script: string;
}

const variants: Variant[] = [{ name: 'unfenced > file', script: `sh -c ${q(command)} > ${q(out)}` }];
for (const backend of ['landlock', 'bwrap']) {
  variants.push({ name: `${backend}: run > file (relayed)`, script: `${run(celistra, backend)} > ${q(out)}` });
  variants.push({ name: `${backend}: run | cat > file`, script: `${run(celistra, backend)} | cat > ${q(out)}` });
  if (baselineDir) variants.push({ name: `${backend}: baseline run > file (file handed over)`, script: `${run(join(baselineDir, 'bin', 'celistra.js'), backend)} > ${q(out)}` });
}

/**
 * CPU time of this process's waited-for children, in ms (/proc/self/stat cutime + cstime,
 * clock ticks of 10 ms): what the run cost the machine, which a loaded machine's wall
 * time hides under waiting for a core.
 */
function childrenCpuMs(): number {
  const fields = readFileSync('/proc/self/stat', 'utf8').replace(/^.*\) /, '').split(' ');
  return (Number(fields[13]) + Number(fields[14])) * 10;
}

function once(v: Variant): { wall: number; cpu: number } {
  rmSync(out, { force: true });
  const cpuBefore = childrenCpuMs();
  const started = process.hrtime.bigint();
  const r = spawnSync('sh', ['-c', v.script], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  const cpu = childrenCpuMs() - cpuBefore;
  if (r.status !== 0) throw new Error(`${v.name} failed (${r.status}): ${r.stderr}`);
  const size = statSync(out).size;
  if (size !== bytes) throw new Error(`${v.name} wrote ${size} bytes, not ${bytes}`);
  return { wall: ms, cpu };
}

const samples = new Map(variants.map((v) => [v.name, [] as number[]]));
const cpuSamples = new Map(variants.map((v) => [v.name, [] as number[]]));
for (const v of variants) once(v); // warm caches (code cache, probe caches, page cache)
const load: number[] = [];
for (let i = 0; i < runs; i++) {
  const order = [...variants].sort(() => Math.random() - 0.5);
  for (const v of order) {
    const t = once(v);
    samples.get(v.name)!.push(t.wall);
    cpuSamples.get(v.name)!.push(t.cpu);
  }
  load.push(loadavg()[0]!);
}
rmSync(scratch, { recursive: true, force: true });

const floor = median(samples.get('unfenced > file')!);
console.log(`stdio relay, ${mb} MB from head -c into a file; ${runs} rounds; ${machineLine()}; load ${Math.min(...load).toFixed(1)}–${Math.max(...load).toFixed(1)}`);
console.log(`| variant | wall median ms | wall p90 ms | × unfenced | MB/s | CPU median ms (all processes) |`);
console.log(`|---|---|---|---|---|---|`);
for (const v of variants) {
  const s = samples.get(v.name)!;
  const m = median(s);
  console.log(`| ${v.name} | ${m.toFixed(0)} | ${percentile(s, 90).toFixed(0)} | ${(m / floor).toFixed(2)} | ${(mb / (m / 1000)).toFixed(0)} | ${median(cpuSamples.get(v.name)!).toFixed(0)} |`);
}
for (const backend of ['landlock', 'bwrap']) {
  const relayed = median(samples.get(`${backend}: run > file (relayed)`)!);
  const piped = median(samples.get(`${backend}: run | cat > file`)!);
  const cpu = (name: string) => median(cpuSamples.get(name)!);
  let line = `${backend}: wall relayed / piped-to-cat ${(relayed / piped).toFixed(2)}; CPU ${(cpu(`${backend}: run > file (relayed)`) / cpu(`${backend}: run | cat > file`)).toFixed(2)}`;
  if (baselineDir) {
    const handed = `${backend}: baseline run > file (file handed over)`;
    line += `; wall relayed / file handed over ${(relayed / median(samples.get(handed)!)).toFixed(2)}; CPU ${(cpu(`${backend}: run > file (relayed)`) / cpu(handed)).toFixed(2)}`;
  }
  console.log(line);
}
