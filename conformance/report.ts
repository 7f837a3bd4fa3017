import { SECTIONS } from './case.js';
import type { BackendReport } from './runner.js';
import { isFailure, type Status } from './verdict.js';

export interface SuiteReport {
  backends: BackendReport[];
  /** Backends asked for but not usable here, with the reason. */
  unavailable: { backend: string; reason: string }[];
  failures: number;
}

export function countFailures(backends: BackendReport[]): number {
  return backends.reduce((n, b) => n + b.cases.filter((c) => isFailure(c.status)).length, 0);
}

const LEGEND = `held: the fence kept its promise (escape denied, or allowed work let through)
ESCAPED: an attempt changed, read or reached something outside the fence it promised to protect
FALSE-DENY: allowed work failed or left no effect
gap: the backend declares it cannot enforce this here (reason below); gap-held: declared gap that held anyway
ERROR: the suite could not run the attempt`;

/** The case × backend table, then every non-clean detail, then the summary line. */
export function renderSuite(r: SuiteReport): string {
  const out: string[] = [];
  const backends = r.backends.filter((b) => b.available);
  for (const u of r.unavailable) out.push(`${u.backend}: UNAVAILABLE: ${u.reason}`);
  if (backends.length === 0) {
    out.push('no backend to test');
    return `${out.join('\n')}\n`;
  }
  const ids = backends[0]!.cases.map((c) => c.id);
  const titleWidth = 62;
  out.push(`${'case'.padEnd(5)}${'title'.padEnd(titleWidth)}${backends.map((b) => b.backend.padEnd(11)).join('')}`);
  let section = '';
  for (const id of ids) {
    const first = backends[0]!.cases.find((c) => c.id === id)!;
    if (first.section !== section) {
      section = first.section;
      out.push(`${section}. ${SECTIONS[first.section]}`);
    }
    const title = first.title.length > titleWidth - 2 ? `${first.title.slice(0, titleWidth - 3)}…` : first.title;
    out.push(`${id.padEnd(5)}${title.padEnd(titleWidth)}${backends.map((b) => (b.cases.find((c) => c.id === id)?.status ?? '-').padEnd(11)).join('')}`);
  }
  out.push('');
  for (const b of backends) {
    for (const c of b.cases) {
      if (c.status === 'held' || c.status === 'n/a') continue;
      out.push(`${b.backend} ${c.id} ${c.status}: ${c.title}`);
      for (const g of c.gaps) out.push(`    gap: ${g}`);
      for (const a of c.attempts) {
        if (a.status === 'held' || (c.status.startsWith('gap') && a.status.startsWith('gap'))) continue;
        out.push(`    [${a.status}] ${a.name}`);
        for (const e of a.evidence) out.push(`        ${e}`);
      }
      if (c.status === 'gap-held') out.push('    note: declared as a gap, yet every attempt held on this machine');
    }
  }
  out.push(LEGEND, '');
  const counts = (b: BackendReport) => {
    const n = (s: Status) => b.cases.filter((c) => c.status === s).length;
    return `${b.backend} (as ${b.user}, ${(b.ms / 1000).toFixed(1)} s): ${n('held')} held, ${n('ESCAPED')} escaped, ${n('FALSE-DENY')} false-deny, ${n('gap') + n('gap-held')} gap, ${n('ERROR')} error`;
  };
  out.push(`summary: ${backends.map(counts).join('; ')} — ${r.failures === 0 ? 'CLEAN' : `${r.failures} FAILING`}`);
  return `${out.join('\n')}\n`;
}
