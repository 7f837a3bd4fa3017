import { defineCommand } from 'citty';
import type { AgentSummary } from '../../daemon/agent-spec.js';
import { celistraPaths } from '../../policy/paths.js';
import { DaemonClient } from '../../daemon/client.js';
import { runCommand } from '../command.js';

export default defineCommand({
  meta: { name: 'restart', description: 'Start an agent again (TERM, then KILL after 5 s if running); clears crashed-out.' },
  args: { name: { type: 'positional', required: true, description: 'agent name' } },
  run: ({ args }) =>
    runCommand(async () => {
      const name = String(args.name);
      await new DaemonClient(celistraPaths()).call<{ agent: AgentSummary }>('POST', `/v1/agents/${encodeURIComponent(name)}/restart`, {});
      process.stdout.write(`${name}: restarting\n`);
    }),
});
