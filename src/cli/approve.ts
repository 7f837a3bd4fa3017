import { defineCommand } from 'citty';
import { celistraPaths } from '../policy/paths.js';
import { DaemonClient } from '../daemon/client.js';
import type { ApprovalView } from '../approvals/request.js';
import { runCommand } from './command.js';

export default defineCommand({
  meta: { name: 'approve', description: 'Approve a pending request (`celistra approvals` lists them). The first answer wins.' },
  args: {
    id: { type: 'positional', required: true, description: 'request id' },
    always: { type: 'boolean', description: 'also approve the same request from this agent from now on' },
    json: { type: 'boolean', description: 'print the decided request as JSON' },
  },
  run: ({ args }) =>
    runCommand(async () => {
      const { approval } = await new DaemonClient(celistraPaths()).call<{ approval: ApprovalView }>('POST', `/v1/approvals/${encodeURIComponent(String(args.id))}/approve`, {
        by: 'cli',
        always: args.always === true,
      });
      process.stdout.write(args.json ? `${JSON.stringify(approval, null, 2)}\n` : `${approval.id}: approved (${approval.agent} [${approval.task}] ${approval.tool}: ${approval.text})\n`);
    }),
});
