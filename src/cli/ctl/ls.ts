import { defineCommand } from 'citty';
import type { AgentSummary } from '../../daemon/agent-spec.js';
import { celistraPaths } from '../../policy/paths.js';
import { DaemonClient } from '../../daemon/client.js';
import { runCommand } from '../command.js';
import { printable } from '../../text/printable.js';
import { formatDuration } from '../../text/duration.js';
import { formatBytes } from '../../policy/limits.js';

function stateText(a: AgentSummary): string {
  // Why its last run ended, when a limit was why: the kernel's OOM killer.
  const oom = a.state !== 'running' && a.lastExit?.oomKills ? 'oom' : '';
  if (a.state === 'exited' && a.lastExit) return `exited(${a.lastExit.status}${oom ? ` ${oom}` : ''})`;
  if (oom && a.state !== 'restarting') return `${a.state}(${oom})`;
  if (a.state === 'running' && a.approvals) return `waiting-approval(${formatDuration(Math.max(0, Date.now() - a.approvals.oldestAt))})`;
  if (a.state === 'restarting' && a.restartAt) return `restarting(${formatDuration(Math.max(0, a.restartAt - Date.now()))})`;
  return a.state;
}

/** `4096p,2G,1.5cpu:cgroup-v1`: processes, memory, CPUs, and what holds them (the processes' mechanism). */
function limitsText(l: AgentSummary['limits'] | undefined): string {
  if (!l) return '-';
  const parts = [l.maxProcs === 'unlimited' ? 'unlimited-procs' : `${l.maxProcs}p`];
  if (l.memoryBytes) parts.push(formatBytes(l.memoryBytes));
  if (l.cpu) parts.push(`${l.cpu}cpu`);
  return `${parts.join(',')}${l.by ? `:${l.by.procs}` : ''}`;
}

/** The task's diff stat: `2 files +4 -1`; `-` outside a task worktree, `…` until measured. */
function diffText(stat: AgentSummary['diffStat']): string {
  if (!stat) return '-';
  if (stat.status === 'pending') return '…';
  if (stat.status === 'failed') return 'failed';
  return stat.files === 0 ? 'none' : `${stat.files} file${stat.files === 1 ? '' : 's'} +${stat.added} -${stat.removed}`;
}

export function formatAgentTable(agents: AgentSummary[], width: number): string {
  const header = ['NAME', 'STATE', 'PID', 'UPTIME', 'RESTARTS', 'BACKEND', 'LIMITS', 'WORKSPACE', 'DIFF', 'LAST OUTPUT'];
  const rows = agents.map((a) =>
    [
      a.name,
      stateText(a),
      a.pid === null ? '-' : String(a.pid),
      a.uptimeMs === null ? '-' : formatDuration(a.uptimeMs),
      String(a.restarts),
      a.unsandboxed ? 'NONE!UNSANDBOXED' : (a.backend ?? '-'),
      limitsText(a.limits),
      a.branch ? `${a.workspace} [${a.branch}]` : a.workspace,
      diffText(a.diffStat),
      a.lastLine,
    ].map(printable),
  );
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const fixed = widths.slice(0, -1).reduce((n, w) => n + w + 2, 0);
  const lastWidth = Math.max(10, width - fixed);
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c.slice(0, lastWidth) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  const out = [line(header), ...rows.map(line)];
  const unsandboxed = agents.filter((a) => a.unsandboxed).map((a) => a.name);
  if (unsandboxed.length) out.push(`WARNING: ${unsandboxed.length} agent(s) run UNSANDBOXED (--backend none): ${unsandboxed.join(', ')}`);
  return `${out.join('\n')}\n`;
}

export default defineCommand({
  meta: { name: 'ls', description: 'List the agents: state, pid, uptime, restarts, backend, limits, workspace, diff stat of its task, last line of output.' },
  args: { json: { type: 'boolean', description: 'print JSON' } },
  run: ({ args }) =>
    runCommand(async () => {
      const agents = await new DaemonClient(celistraPaths()).listAgents();
      if (args.json) process.stdout.write(`${JSON.stringify(agents, null, 2)}\n`);
      else if (agents.length === 0) process.stdout.write('no agents (start one with `celistra ctl spawn --workspace DIR -- CMD`)\n');
      else process.stdout.write(formatAgentTable(agents, process.stdout.columns || 160));
    }),
});
