// What the Landlock exec helper adds to starting a command: celistra-exec applying the
// fence and exec'ing `true`, beside spawning `true` directly. Variants run round-robin
// so machine noise hits all of them alike.
// Usage: node dist/bench/exec-helper.js [runs] [--baseline-helper PATH]
//   --baseline-helper PATH  also time an earlier celistra-exec build in the exec'd-by-run
//                           variant, in the same round-robin, for before/after figures.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { nativeBuild } from '../src/backends/landlock/native-addon.js';
import { landlockFacts } from '../src/backends/landlock/probe.js';
import { fenceFilter } from '../src/backends/seccomp/fence-filter.js';
import { machineLine, median, percentile } from './stats.js';

const cli = process.argv.slice(2);
const baselineAt = cli.indexOf('--baseline-helper');
const baselineHelper = baselineAt === -1 ? undefined : cli[baselineAt + 1];
const runs = Math.max(20, Number(cli.find((a, i) => /^\d+$/.test(a) && cli[i - 1] !== '--baseline-helper') ?? 40));
const helper = nativeBuild().helperPath;
const facts = landlockFacts();
if (!facts.built || facts.abi === 0) {
  process.stderr.write(`exec-helper bench: the Landlock backend is unusable here (${facts.buildProblem ?? 'no Landlock'})\n`);
  process.exit(1);
}

// Outside /tmp, so the namespace variants get their private /tmp as in normal use, and
// the read-deny walk (Landlock only) sees a home with few siblings, as under /home.
const scratch = mkdtempSync(join(process.env.CELISTRA_BENCH_DIR ?? '/var/tmp', 'celistra-bench-helper-'));
const ws = join(scratch, 'ws');
const tmp = join(scratch, 'tmp');
const home = join(scratch, 'home');
for (const d of [ws, tmp, join(home, '.ssh'), join(home, '.aws')]) mkdirSync(d, { recursive: true });
writeFileSync(join(home, '.netrc'), 'machine x\n');
// The secrets a default policy denies, so the read-deny work is part of the figure.
const deny = ['.ssh', '.aws', '.netrc'].flatMap((d) => ['--deny-read', join(home, d)]);
const fence = ['--write', ws, '--tmp', tmp];

interface Variant {
  name: string;
  /** A function when each run needs arguments of its own (a fresh spool file). */
  argv: string[] | (() => string[]);
}

const variants: Variant[] = [
  { name: 'true (direct spawn)', argv: ['true'] },
  { name: 'helper, Landlock only', argv: [helper, ...fence, '--', 'true'] },
  { name: 'helper, Landlock only + 3 read-denies', argv: [helper, ...fence, ...deny, '--', 'true'] },
];
if (facts.userNamespaces) {
  variants.push(
    { name: 'helper, namespaces + Landlock + 3 read-denies', argv: [helper, '--namespaces', '--new-session', ...fence, ...deny, '--', 'true'] },
    { name: 'helper, as above + --net off', argv: [helper, '--namespaces', '--new-session', '--net', 'off', ...fence, ...deny, '--', 'true'] },
  );
}
// What a default `celistra run` asks for on this machine: the fence's seccomp filter too.
const socketFilter = facts.seccomp ? fenceFilter({ unixSockets: 'refuse', network: 'on' }) : undefined;
if (socketFilter && facts.userNamespaces) {
  const defaultRun = [helper, '--namespaces', '--new-session', ...fence, ...deny, '--seccomp-filter', socketFilter.toString('hex')];
  variants.push({ name: 'helper, namespaces + Landlock + 3 read-denies + unix-socket filter (a default run)', argv: [...defaultRun, '--', 'true'] });
  // What a piped `celistra run` actually starts: Node exec's into the helper, which then
  // also records the exit in the audit spool file Node opened (--spool), as Node would have.
  const spoolDir = join(scratch, 'spool');
  mkdirSync(spoolDir);
  let spoolRuns = 0;
  const execdByRun = (binary: string) => () => {
    const spool = join(spoolDir, `${String(++spoolRuns).padStart(6, '0')}.open`);
    writeFileSync(spool, '', { mode: 0o600 });
    return [binary, ...defaultRun.slice(1), '--spool', spool, '--audit-agent-json', '"bench"', '--started-ms', String(Date.now()), '--', 'true'];
  };
  variants.push({ name: 'the same, exec\'d by `celistra run` (--spool: the helper records the exit)', argv: execdByRun(helper) });
  if (baselineHelper) variants.push({ name: `baseline ${baselineHelper}, exec'd by \`celistra run\` (--spool)`, argv: execdByRun(baselineHelper) });
}

/**
 * CPU time of reaped children (user + system), in clock ticks (1/100 s on Linux). Too
 * coarse for one run, unbiased summed over many: it shows the work the helper adds,
 * which wall time on a busy machine hides behind scheduling delays.
 */
function childCpuTicks(): number {
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ');
  return Number(fields[13]) + Number(fields[14]);
}

const cpuTicks = new Map<string, number>(variants.map((v) => [v.name, 0]));

function once(v: Variant): number {
  const ticks0 = childCpuTicks();
  const argv = typeof v.argv === 'function' ? v.argv() : v.argv;
  const t0 = process.hrtime.bigint();
  const r = spawnSync(argv[0]!, argv.slice(1), { cwd: ws, stdio: ['ignore', 'ignore', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  cpuTicks.set(v.name, cpuTicks.get(v.name)! + childCpuTicks() - ticks0);
  if (r.status !== 0) throw new Error(`${v.name} failed (${r.status}): ${r.stderr.toString()}`);
  return ms;
}

for (const v of variants) once(v); // warm caches, fail early
for (const v of variants) cpuTicks.set(v.name, 0);
const samples = new Map<string, number[]>(variants.map((v) => [v.name, []]));
for (let i = 0; i < runs; i++) for (const v of variants) samples.get(v.name)!.push(once(v));
rmSync(scratch, { recursive: true, force: true });
const cpuMs = (name: string) => (cpuTicks.get(name)! * 10) / runs;

const base = median(samples.get(variants[0]!.name)!);
const baseCpu = cpuMs(variants[0]!.name);
const lines = [
  `machine: ${machineLine()}; load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}; Landlock ABI ${facts.abi}; user namespaces ${facts.userNamespaces ? 'yes' : 'no'}; uid ${process.getuid?.()}`,
  `runs: ${runs} per variant, round-robin`,
  '',
  '| variant | median ms | min ms | p90 ms | added over direct (median) | ratio (median) | CPU ms per run | CPU added |',
  '|---|---|---|---|---|---|---|---|',
  ...variants.map((v) => {
    const s = samples.get(v.name)!;
    const m = median(s);
    const cpu = cpuMs(v.name);
    return `| ${v.name} | ${m.toFixed(2)} | ${Math.min(...s).toFixed(2)} | ${percentile(s, 90).toFixed(2)} | ${(m - base).toFixed(2)} ms | ${(m / base).toFixed(2)}x | ${cpu.toFixed(2)} | ${(cpu - baseCpu).toFixed(2)} ms |`;
  }),
];
process.stdout.write(lines.join('\n') + '\n');
