import { defineCommand } from 'citty';
import { celistraPaths } from '../policy/paths.js';
import { DaemonClient } from '../daemon/client.js';
import type { ApprovalView } from '../approvals/request.js';
import type { ApprovalEvent } from '../approvals/queue.js';
import { runCommand } from './command.js';
import { formatDuration } from '../text/duration.js';

export function formatApprovals(list: ApprovalView[], now: number): string {
  if (list.length === 0) return 'no pending approval requests\n';
  const header = ['ID', 'AGENT', 'TASK', 'TOOL', 'WAITING', 'EXPIRES', 'STATE', 'REQUEST'];
  const rows = list.map((a) => [
    a.id,
    a.agent,
    a.task,
    a.tool,
    formatDuration(Math.max(0, (a.decidedAt ?? now) - a.created)),
    a.state === 'pending' ? `in ${formatDuration(Math.max(0, a.expires - now))}` : '-',
    a.state === 'pending' ? 'pending' : `${a.state}${a.by ? ` (${a.by})` : ''}`,
    a.text.replace(/\s+/g, ' '),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return `${[line(header), ...rows.map(line)].join('\n')}\n`;
}

export default defineCommand({
  meta: { name: 'approvals', description: 'List the approval requests waiting for a person (id, agent, task, tool, request).' },
  args: {
    json: { type: 'boolean', description: 'print JSON' },
    watch: { type: 'boolean', description: 'keep printing requests and decisions as they happen (JSON lines with --json)' },
    all: { type: 'boolean', description: 'include recently decided requests' },
  },
  run: ({ args }) =>
    runCommand(async () => {
      const client = new DaemonClient(celistraPaths());
      if (!args.watch) {
        const { approvals } = await client.call<{ approvals: ApprovalView[] }>('GET', `/v1/approvals${args.all ? '?all=1' : ''}`);
        process.stdout.write(args.json ? `${JSON.stringify(approvals, null, 2)}\n` : formatApprovals(approvals, Date.now()));
        return 0;
      }
      const { openDaemonWebSocket } = await import('../daemon/answer.js');
      const ws = await openDaemonWebSocket(client.socketPath, '/v1/approvals/stream', 'approvals stream');
      return new Promise<number>((resolve) => {
        ws.on('message', (data: Buffer) => {
          const msg = JSON.parse(data.toString()) as ApprovalEvent | { type: 'snapshot'; approvals: ApprovalView[] };
          if (args.json) process.stdout.write(`${JSON.stringify(msg)}\n`);
          else if (msg.type === 'snapshot') process.stdout.write(formatApprovals(msg.approvals, Date.now()));
          else {
            const a = msg.approval;
            process.stdout.write(
              msg.type === 'request' ? `new  ${a.id}  ${a.agent} [${a.task}]  ${a.tool}: ${a.text}\n` : `${a.state.padEnd(8)} ${a.id}  ${a.agent} [${a.task}]${a.by ? ` by ${a.by}` : ''}${a.reason ? `: ${a.reason}` : ''}\n`,
            );
          }
        });
        ws.on('close', () => resolve(0));
        ws.resume();
      });
    }),
});
