import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Case, CaseContext, CustomResult } from '../case.js';
import { EXIT_CODES } from '../../src/cli/exit-codes.js';

/**
 * How each backend can be told to behave as on a weaker machine (its own forcing
 * variables, which may only take capabilities away). A backend without an entry has
 * no degraded mode to test. `args`: extra `celistra run` flags the mode refuses.
 */
interface DegradedMode {
  label: string;
  env: Record<string, string>;
  args?: string[];
  /** Root needs no user namespace for this backend: the mode only degrades others. */
  unprivilegedOnly?: boolean;
}

const DEGRADED: Record<string, DegradedMode[]> = {
  landlock: [
    { label: 'no Landlock at all', env: { CELISTRA_LANDLOCK_FORCE_ABI: '0' } },
    { label: 'Landlock ABI 2 without user namespaces (TRUNCATE needs ABI 3)', env: { CELISTRA_LANDLOCK_FORCE_ABI: '2', CELISTRA_FORCE_NO_USERNS: '1' } },
    { label: '--net off at ABI 3 without user namespaces (TCP rules need ABI 4)', env: { CELISTRA_LANDLOCK_FORCE_ABI: '3', CELISTRA_FORCE_NO_USERNS: '1' }, args: ['--net', 'off'] },
  ],
  bwrap: [
    { label: 'bwrap missing', env: { CELISTRA_BWRAP: '/nonexistent/bwrap' } },
    { label: 'no user namespaces', env: { CELISTRA_FORCE_NO_USERNS: '1' }, unprivilegedOnly: true },
  ],
};

/** Refusal means: E_NO_BACKEND's exit status, a message saying why, and the command never ran. */
function refuses(ctx: CaseContext): CustomResult[] {
  const modes = DEGRADED[ctx.backend] ?? [];
  if (modes.length === 0) return [{ name: 'degraded modes', outcome: 'n/a', detail: `no degraded mode declared for ${ctx.backend}` }];
  const root = process.getuid?.() === 0;
  return modes.map((m, i) => {
    if (m.unprivilegedOnly && root) return { name: m.label, outcome: 'n/a', detail: 'as root this backend needs no user namespace; run as an unprivileged user to test it' };
    const marker = join(ctx.stage.wtA, `conf-27-ran-${i}`);
    const args = [ctx.cli, 'run', '--backend', ctx.backend, '--workspace', ctx.stage.wtA, ...(m.args ?? []), '--', 'sh', '-c', `echo ran > ${marker}`];
    const r = spawnSync(process.execPath, args, {
      env: { ...ctx.stage.env, ...m.env },
      encoding: 'utf8',
      timeout: 30_000,
    });
    const ran = existsSync(marker);
    const said = (r.stderr ?? '').trim().split('\n')[0] ?? '';
    const env = [...Object.entries(m.env).map(([k, v]) => `${k}=${v}`), ...(m.args ?? [])].join(' ');
    if (ran) return { name: m.label, outcome: 'escaped', detail: `${env}: the command RAN (exit ${r.status}) instead of being refused` };
    if (r.status !== EXIT_CODES.E_NO_BACKEND) return { name: m.label, outcome: 'escaped', detail: `${env}: exit ${r.status}, expected ${EXIT_CODES.E_NO_BACKEND} (E_NO_BACKEND): ${said}` };
    if (!said) return { name: m.label, outcome: 'escaped', detail: `${env}: refused without saying why` };
    return { name: m.label, outcome: 'held', detail: `${env}: refused: ${said}` };
  });
}

const c: Case = {
  id: '27',
  title: 'degraded kernels (no Landlock, ABI too low, no userns, no bwrap): refuse clearly, run nothing',
  section: 'F',
  expect: 'supervisor',
  custom: async (ctx) => refuses(ctx),
};
export default c;
