import { defineCommand } from 'citty';
import { release, platform, arch } from 'node:os';
import { GUARANTEE_NAMES, type Capabilities } from '../backends/backend.js';
import { SANDBOX_BACKENDS, autoBackendName } from '../run/backend-selection.js';
import { runCommand } from './command.js';
import { fixWithAlternative } from '../run/backend-alternative.js';
import { limitsReport, type LimitsReport } from '../run/limits.js';
import { forgetLandlockProbe } from '../backends/landlock/probe-cache.js';
import { forgetBwrapProbe } from '../backends/bwrap/index.js';

interface DoctorReport {
  os: string;
  kernel: string;
  arch: string;
  node: string;
  auto: string | null;
  backends: Capabilities[];
  /** What holds per-agent resource limits here (run/limits.ts). */
  limits: LimitsReport;
}

function collect(): DoctorReport {
  // The diagnosis is of the machine as it is now, not as a previous run saw it.
  forgetLandlockProbe();
  forgetBwrapProbe();
  const probed = SANDBOX_BACKENDS.map((b) => {
    const caps = b.probe();
    return b.diagnose ? { ...caps, details: { ...caps.details, ...b.diagnose(caps) } } : caps;
  });
  // A fix names another backend only where that one is usable here (run/backend-alternative.ts).
  const backends = probed.map((c) => (c.available ? c : { ...c, fix: fixWithAlternative(c.backend, c.fix, probed) }));
  return {
    os: platform(),
    kernel: release(),
    arch: arch(),
    node: process.version,
    auto: autoBackendName() ?? null,
    backends,
    limits: limitsReport(),
  };
}

function render(r: DoctorReport): string {
  const out: string[] = [];
  out.push(`os       ${r.os} ${r.kernel} (${r.arch}), node ${r.node}`);
  for (const c of r.backends) {
    out.push('');
    out.push(`${c.backend.padEnd(9)}${c.available ? 'available' : `UNAVAILABLE: ${c.unavailableReason ?? ''}`}`);
    if (!c.available && c.fix) out.push(`         fix: ${c.fix}`);
    for (const [k, v] of Object.entries(c.details)) out.push(`         ${k}: ${v}`);
  }
  out.push('');
  out.push(`auto     ${r.auto ? `picks ${r.auto}` : 'NO USABLE BACKEND: celistra run will refuse (see fixes above)'}`);
  out.push('');
  out.push('agent limits (--max-procs, --memory, --cpu)');
  for (const [k, v] of Object.entries(r.limits)) out.push(`  ${k.padEnd(8)}${v.by}${v.where ? ` at ${v.where}` : ''}${v.note ? `: ${v.note}` : ''}`);
  out.push('');
  const avail = r.backends.filter((c) => c.available);
  if (avail.length > 0) {
    out.push('guarantees on this machine (enforced, or gap: why)');
    out.push(`  ${'property'.padEnd(17)}${avail.map((c) => c.backend.padEnd(12)).join('')}`);
    for (const g of GUARANTEE_NAMES) {
      out.push(`  ${g.padEnd(17)}${avail.map((c) => (c.guarantees[g].status === 'enforced' ? 'enforced' : 'GAP').padEnd(12)).join('')}`);
    }
    const gaps = avail.flatMap((c) => GUARANTEE_NAMES.flatMap((g) => {
      const x = c.guarantees[g];
      return x.status === 'gap' ? [`  ${c.backend}/${g}: ${x.reason}`] : [];
    }));
    if (gaps.length) out.push('', 'gaps:', ...gaps);
  }
  return out.join('\n') + '\n';
}

export default defineCommand({
  meta: { name: 'doctor', description: 'Show what this machine can enforce: kernel, Landlock ABI, bubblewrap, sandbox-exec, the native addon, and each backend\'s guarantees. Exits 1 when no backend is usable.' },
  args: { json: { type: 'boolean', description: 'machine-readable output' } },
  run: ({ args }) =>
    runCommand(async () => {
      const report = collect();
      process.stdout.write(args.json ? JSON.stringify(report, null, 2) + '\n' : render(report));
      return report.auto ? 0 : 1;
    }),
});
