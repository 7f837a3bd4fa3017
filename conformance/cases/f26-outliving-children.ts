import { isSupervisorWrite } from '../supervisor-writes.js';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import type { Case, CaseContext, CustomResult } from '../case.js';
import { processesWithEnv } from '../host-proc.js';
import { agentOwnChanges, protectedWatches } from '../protected-paths.js';
import { sh } from '../quoting.js';
import { diffSnapshots, takeSnapshot } from '../snapshot.js';

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * The agent leaves children behind (setsid + nohup, and a double fork) that write
 * outside after it has exited. Judged after `celistra run` returns: are any still
 * alive, and did their late writes land?
 */
async function outlive(ctx: CaseContext): Promise<CustomResult[]> {
  const { stage, cli, backend } = ctx;
  const mark = `CELISTRA_CONF_26=${stage.tag}`;
  const late = (n: string) => sh(join(stage.wtB, `conf-26-${n}`));
  const work = sh(join(stage.wtB, 'work.txt'));
  const script = [
    `setsid nohup sh -c 'sleep 1.5; echo late >> ${work}; echo late > ${late('setsid')}' >/dev/null 2>&1 </dev/null &`,
    `(sh -c 'sleep 1.5; echo late > ${late('double-fork')}' >/dev/null 2>&1 </dev/null &)`,
    'exit 0',
  ].join('\n');
  const watches = protectedWatches(stage);
  const before = takeSnapshot(watches);
  const r = spawnSync(process.execPath, [cli, 'run', '--backend', backend, '--workspace', stage.wtA, '--', 'sh', '-c', script], {
    env: { ...stage.env, CELISTRA_CONF_26: stage.tag },
    encoding: 'utf8',
    timeout: 30_000,
  });
  const survivors = processesWithEnv(mark);
  await sleep(2500);
  // This check spans a whole `celistra run`, which records the launch and the exit in
  // its state dir on the host side: those writes are the supervisor's, not the agent's.
  const agentOwn = agentOwnChanges(stage);
  const changes = diffSnapshots(before, takeSnapshot(watches), (p, change, b, a) => isSupervisorWrite(stage, p, change) || agentOwn(p, change, b, a));
  for (const pid of processesWithEnv(mark)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  const ran = `celistra run exited ${r.status}${r.stderr?.trim() ? `: ${r.stderr.trim().slice(-200)}` : ''}`;
  return [
    {
      name: 'late writes from children that outlive the agent stay fenced',
      expect: 'content-writes',
      outcome: r.status !== 0 ? 'n/a' : changes.length ? 'escaped' : 'held',
      detail: changes.length ? changes.join('; ') : `no change outside (${ran})`,
    },
    {
      name: 'children end with the agent',
      expect: 'supervisor',
      outcome: r.status !== 0 ? 'n/a' : survivors.length ? 'escaped' : 'held',
      detail: survivors.length ? `${survivors.length} process(es) still alive after celistra run returned: pids ${survivors.join(', ')}` : `none left (${ran})`,
    },
  ];
}

const c: Case = {
  id: '26',
  title: 'double-fork / setsid / nohup children stay fenced and end with the agent',
  section: 'F',
  expect: 'supervisor',
  custom: outlive,
};
export default c;
