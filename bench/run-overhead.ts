// Startup cost of a fenced command: `celistra run -- true` beside bare `true`, `node -e 0`
// (the floor of any Node CLI), raw bwrap, and srt. Variants run round-robin so machine
// noise hits all of them alike, in two phases:
// - start-up (the 1.3x figure): the light commands only;
// - heavy (the srt figure): srt and a first run without caches, beside `node -e 0` and
//   `celistra run` again. srt leaves its socat and bwrap children to exit after it
//   returns, and a cold run rewrites the code cache: mixed into the first phase, that
//   work lands on whichever command runs next (measured: `celistra run` 1.36-1.42x of
//   `node -e 0` with srt in the rotation, 1.22x without, same build, same hour).
// Usage: node dist/bench/run-overhead.js [runs] [--baseline DIR] [--keep-node-env]
//   --baseline DIR   also time DIR/bin/celistra.js (a copy of an earlier build: bin/,
//                    dist/, package.json, with native/ and node_modules/ linked), in the
//                    same round-robin, for before/after figures from one run.
//   --keep-node-env  keep NODE_EXTRA_CA_CERTS and NODE_OPTIONS for the commands. By default
//                    they are dropped: Node reads an extra CA file at every start (~65 ms
//                    for a system bundle here), which would raise the `node -e 0` floor
//                    and hide Celistra's own cost in the ratios.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { machineLine, median, percentile } from './stats.js';

const cli = process.argv.slice(2);
const flagValue = (name: string) => {
  const i = cli.indexOf(name);
  return i === -1 ? undefined : cli[i + 1];
};
const runs = Number(cli.find((a, i) => /^\d+$/.test(a) && cli[i - 1] !== '--baseline') ?? 30);
const baselineDir = flagValue('--baseline');
const keepNodeEnv = cli.includes('--keep-node-env');
const root = fileURLToPath(new URL('../..', import.meta.url));
const celistra = join(root, 'bin', 'celistra.js');
const scratch = mkdtempSync(join(tmpdir(), 'celistra-bench-run-'));
const ws = join(scratch, 'ws');
mkdirSync(ws);
const inherited = { ...process.env };
if (!keepNodeEnv) {
  delete inherited.NODE_EXTRA_CA_CERTS;
  delete inherited.NODE_OPTIONS;
}
const env = {
  ...inherited,
  HOME: join(scratch, 'home'),
  XDG_STATE_HOME: join(scratch, 'state'),
  XDG_CONFIG_HOME: join(scratch, 'config'),
  XDG_RUNTIME_DIR: join(scratch, 'run'),
};
mkdirSync(env.HOME, { recursive: true });
mkdirSync(env.XDG_RUNTIME_DIR, { recursive: true, mode: 0o700 });
const srtSettings = join(scratch, 'srt.json');
writeFileSync(srtSettings, JSON.stringify({ filesystem: { allowWrite: [ws], denyRead: [], denyWrite: [] }, network: { allowedDomains: [], deniedDomains: [] } }));

interface Variant {
  name: string;
  phase: 'start-up' | 'heavy';
  argv: string[];
  /** Runs before every measured run, outside the timing. */
  before?: () => void;
  /** Default: env. */
  env?: NodeJS.ProcessEnv;
}

// A first run after an install or upgrade: no V8 code cache, no cached Landlock probe.
const coldEnv = { ...env, XDG_STATE_HOME: join(scratch, 'cold-state'), XDG_RUNTIME_DIR: join(scratch, 'cold-run') };
mkdirSync(coldEnv.XDG_RUNTIME_DIR, { recursive: true, mode: 0o700 });
const forgetCaches = () => {
  rmSync(join(coldEnv.XDG_STATE_HOME, 'celistra', 'code-cache'), { recursive: true, force: true });
  rmSync(join(coldEnv.XDG_RUNTIME_DIR, 'celistra', 'landlock-probe.json'), { force: true });
};

const floorArgv = [process.execPath, '-e', '0'];
const autoArgv = [process.execPath, celistra, 'run', '--workspace', ws, '--', 'true'];
const variants: Variant[] = [
  { phase: 'start-up', name: 'true (bare)', argv: ['true'] },
  { phase: 'start-up', name: 'node -e 0 (Node floor)', argv: floorArgv },
  { phase: 'start-up', name: 'node: spawn true and wait (CommonJS)', argv: [process.execPath, '-e', "require('node:child_process').spawn('true', { stdio: 'inherit' }).on('exit', (c) => process.exit(c))"] },
  { phase: 'start-up', name: 'bwrap (raw) true', argv: ['bwrap', '--ro-bind', '/', '/', '--dev', '/dev', '--proc', '/proc', '--bind', ws, ws, '--unshare-all', 'true'] },
  { phase: 'start-up', name: 'celistra run --backend none', argv: [process.execPath, celistra, 'run', '--backend', 'none', '--workspace', ws, '--', 'true'] },
  { phase: 'start-up', name: 'celistra run --backend landlock', argv: [process.execPath, celistra, 'run', '--backend', 'landlock', '--workspace', ws, '--', 'true'] },
  { phase: 'start-up', name: 'celistra run --backend bwrap', argv: [process.execPath, celistra, 'run', '--backend', 'bwrap', '--workspace', ws, '--', 'true'] },
  { phase: 'start-up', name: 'celistra run (auto)', argv: autoArgv },
  { phase: 'heavy', name: 'node -e 0 (Node floor)', argv: floorArgv },
  { phase: 'heavy', name: 'celistra run (auto)', argv: autoArgv },
  { phase: 'heavy', name: 'celistra run --backend landlock, first run (no caches)', argv: [process.execPath, celistra, 'run', '--backend', 'landlock', '--workspace', ws, '--', 'true'], before: forgetCaches, env: coldEnv },
  { phase: 'heavy', name: 'srt true', argv: [join(root, 'node_modules', '.bin', 'srt'), '-s', srtSettings, 'true'] },
];
if (baselineDir) {
  const before = join(baselineDir, 'bin', 'celistra.js');
  // Caches of its own, as a separate install has: the probe caches are keyed by the addon's
  // path, so two installs sharing one runtime dir would evict each other's on every run.
  const baselineEnv = { ...env, XDG_STATE_HOME: join(scratch, 'baseline-state'), XDG_RUNTIME_DIR: join(scratch, 'baseline-run') };
  mkdirSync(baselineEnv.XDG_RUNTIME_DIR, { recursive: true, mode: 0o700 });
  variants.push(
    { phase: 'start-up', name: 'baseline: celistra run --backend none', argv: [process.execPath, before, 'run', '--backend', 'none', '--workspace', ws, '--', 'true'], env: baselineEnv },
    { phase: 'start-up', name: 'baseline: celistra run --backend landlock', argv: [process.execPath, before, 'run', '--backend', 'landlock', '--workspace', ws, '--', 'true'], env: baselineEnv },
    { phase: 'start-up', name: 'baseline: celistra run (auto)', argv: [process.execPath, before, 'run', '--workspace', ws, '--', 'true'], env: baselineEnv },
  );
}

/**
 * CPU time of reaped children (user + system), in clock ticks (1/100 s on Linux). Too
 * coarse for one run, unbiased summed over many; unlike wall time it does not grow when
 * other work on the machine delays the run.
 */
function childCpuTicks(): number {
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ');
  return Number(fields[13]) + Number(fields[14]);
}
interface Measured {
  samples: number[];
  cpuTicks: number;
}

function once(v: Variant, into?: Measured): boolean {
  v.before?.();
  const ticks0 = childCpuTicks();
  const t0 = process.hrtime.bigint();
  const r = spawnSync(v.argv[0]!, v.argv.slice(1), { env: v.env ?? env, stdio: 'ignore' });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) return false;
  if (into) {
    into.samples.push(ms);
    into.cpuTicks += childCpuTicks() - ticks0;
  }
  return true;
}

const loadAtStart = loadavg();
const usable = variants.filter((v) => once(v));
const skipped = [...new Set(variants.filter((v) => !usable.includes(v)).map((v) => v.name))];

/**
 * A fresh random order each round. In a fixed rotation each command always followed the
 * same one, and some leave the kernel work to do after they exit (bwrap's namespaces are
 * torn down by kernel workers): on two cores that landed on whichever command came next,
 * every round, while `node -e 0` always followed bare `true`.
 */
function shuffled<T>(items: T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

function table(phase: Variant['phase']): string[] {
  const inPhase = usable.filter((v) => v.phase === phase);
  const measured = new Map<Variant, Measured>(inPhase.map((v) => [v, { samples: [], cpuTicks: 0 }]));
  for (let i = 0; i < runs; i++) for (const v of shuffled(inPhase)) once(v, measured.get(v));
  const byName = (name: string) => [...measured].find(([v]) => v.name === name)?.[1];
  const cpuMs = (m: Measured | undefined) => ((m?.cpuTicks ?? NaN) * 10) / runs;
  const floorRun = byName('node -e 0 (Node floor)');
  const srtRun = byName('srt true');
  const floor = median(floorRun?.samples ?? [NaN]);
  const srt = median(srtRun?.samples ?? [NaN]);
  const withSrt = srtRun !== undefined;
  return [
    `| command | median ms | min ms | p90 ms | × node -e 0 |${withSrt ? ' srt ÷ this |' : ''} CPU ms per run | CPU × node -e 0 |`,
    `|---|---|---|---|---|${withSrt ? '---|' : ''}---|---|`,
    ...[...measured].map(([v, m]) => {
      const med = median(m.samples);
      const c = cpuMs(m);
      return `| ${v.name} | ${med.toFixed(1)} | ${Math.min(...m.samples).toFixed(1)} | ${percentile(m.samples, 90).toFixed(1)} | ${(med / floor).toFixed(2)} |${withSrt ? ` ${(srt / med).toFixed(1)} |` : ''} ${c.toFixed(1)} | ${(c / cpuMs(floorRun)).toFixed(2)} |`;
    }),
  ];
}

const startUp = table('start-up');
const heavy = table('heavy');
const report = [
  `Machine: ${machineLine()}. ${runs} runs each, in rounds within each phase (each round in a fresh random order), wall time of spawnSync.`,
  `Load average at start ${loadAtStart.map((l) => l.toFixed(2)).join(' ')}, at end ${loadavg().map((l) => l.toFixed(2)).join(' ')}.`,
  keepNodeEnv
    ? `NODE_EXTRA_CA_CERTS ${process.env.NODE_EXTRA_CA_CERTS ? 'set' : 'not set'}, NODE_OPTIONS ${process.env.NODE_OPTIONS ? 'set' : 'not set'} (kept: --keep-node-env).`
    : 'NODE_EXTRA_CA_CERTS and NODE_OPTIONS dropped for the commands (--keep-node-env keeps them).',
  baselineDir ? `Baseline: ${baselineDir}.` : '',
  skipped.length ? `Not measured (failed on this machine): ${skipped.join(', ')}.` : '',
  '',
  'Start-up (light commands only):',
  '',
  ...startUp,
  '',
  'Heavy (srt and a run without caches, beside the floor and celistra run again):',
  '',
  ...heavy,
].join('\n');
process.stdout.write(report + '\n');
rmSync(scratch, { recursive: true, force: true });
