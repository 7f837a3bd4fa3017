import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Case, CaseContext, CustomResult } from '../case.js';

/**
 * Host-global knobs: sysctls, the magic SysRq trigger, sysfs attributes, cgroups. The
 * attempt only opens each one for writing and writes nothing, so it changes nothing
 * even where the fence fails; the kernel checks write access at open(), so an open that
 * succeeds is the escape. The host cannot observe an open on procfs or sysfs, which is
 * why this case judges from the fenced side's report of which opens the kernel granted
 * (and, as a witness that the report is the kernel's, checks core_pattern is unchanged).
 * As root this is the question that matters: every file here is root's.
 */
const KNOBS = [
  '/proc/sys/kernel/core_pattern',
  '/proc/sys/kernel/modprobe',
  '/proc/sys/vm/drop_caches',
  '/proc/sys/net/ipv4/ip_forward',
  '/proc/sys/net/core/somaxconn',
  '/proc/sysrq-trigger',
  '/proc/irq/default_smp_affinity',
  '/sys/kernel/mm/transparent_hugepage/enabled',
  '/sys/kernel/uevent_helper',
  '/sys/fs/cgroup/cgroup.procs',
  '/sys/fs/cgroup/cgroup.subtree_control',
  '/sys/power/state',
];

/** Opens each knob O_WRONLY, directly and from a nested user namespace, and reports. */
const ATTEMPT = String.raw`
import os, sys, subprocess
opened = []
for p in sys.argv[1:]:
    try:
        fd = os.open(p, os.O_WRONLY)
    except OSError:
        continue
    os.close(fd)
    opened.append(p)
# A nested user namespace as the command's own root (a self-map) must not reopen them.
try:
    r = subprocess.run(['unshare', '-Ur', 'sh', '-c', 'for p; do [ -e "$p" ] && (: >> "$p") 2>/dev/null && echo "$p"; done', 'x', *sys.argv[1:]], capture_output=True, text=True, timeout=20)
    opened += ['nested userns: ' + l for l in r.stdout.split()]
except (OSError, subprocess.TimeoutExpired):
    pass
print('\n'.join('OPENED FOR WRITING: ' + p for p in opened) or 'no knob opened for writing')
sys.exit(0 if opened else 1)
`;

function read(path: string): string | undefined {
  try {
    return spawnSync('cat', [path], { encoding: 'utf8' }).stdout;
  } catch {
    return undefined;
  }
}

async function check(ctx: CaseContext): Promise<CustomResult[]> {
  const name = 'open /proc/sys, /proc/sysrq-trigger, /sys and cgroup knobs for writing';
  if (process.platform !== 'linux') return [{ name, outcome: 'n/a', detail: '/proc and /sys are Linux only' }];
  const attempt = join(ctx.stage.wtA, 'conf-31-attempt.py');
  writeFileSync(attempt, ATTEMPT);
  const corePattern = read('/proc/sys/kernel/core_pattern');
  const r = spawnSync(process.execPath, [ctx.cli, 'run', '--backend', ctx.backend, '--workspace', ctx.stage.wtA, '--', 'python3', attempt, ...KNOBS], {
    env: ctx.stage.env,
    encoding: 'utf8',
    timeout: 60_000,
  });
  const said = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim();
  const opened = said.split('\n').filter((l) => l.startsWith('OPENED FOR WRITING: '));
  const evidence = [...opened];
  if (read('/proc/sys/kernel/core_pattern') !== corePattern) evidence.push('/proc/sys/kernel/core_pattern CHANGED');
  if (evidence.length) return [{ name, outcome: 'escaped', detail: evidence.join('; ') }];
  if (r.status === null) return [{ name, outcome: 'n/a', detail: `the fenced attempt did not finish (${r.error?.message ?? r.signal})` }];
  if (!said.includes('no knob opened for writing')) return [{ name, outcome: 'n/a', detail: `the attempt did not run: ${said.slice(0, 300)}` }];
  return [{ name, outcome: 'held', detail: `no knob opened for writing, directly or from a nested user namespace (as uid ${process.getuid?.()})` }];
}

const c: Case = {
  id: '31',
  title: 'host-global knobs (/proc/sys, /proc/sysrq-trigger, /sys) are not writable, also as uid 0',
  section: 'H',
  expect: 'host-knobs',
  custom: check,
};
export default c;
