import { defineCommand } from 'citty';
import { celistraPaths } from '../policy/paths.js';
import { DaemonClient } from '../daemon/client.js';
import type { ApprovalView } from '../approvals/request.js';
import { runCommand } from './command.js';

export default defineCommand({
  meta: { name: 'deny', description: 'Deny a pending request; the reason reaches the agent. The first answer wins.' },
  args: {
    id: { type: 'positional', required: true, description: 'request id' },
    reason: { type: 'string', description: 'why, for the agent (a model reads it)', valueHint: 'TEXT' },
    json: { type: 'boolean', description: 'print the decided request as JSON' },
  },
  run: ({ args }) =>
    runCommand(async () => {
      const { approval } = await new DaemonClient(celistraPaths()).call<{ approval: ApprovalView }>('POST', `/v1/approvals/${encodeURIComponent(String(args.id))}/deny`, {
        by: 'cli',
        ...(args.reason ? { reason: String(args.reason) } : {}),
      });
      process.stdout.write(args.json ? `${JSON.stringify(approval, null, 2)}\n` : `${approval.id}: denied (${approval.agent} [${approval.task}] ${approval.tool}: ${approval.text})\n`);
    }),
});
