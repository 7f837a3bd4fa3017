import { defineCommand } from 'citty';
import type { AgentSummary } from '../../daemon/agent-spec.js';
import { celistraPaths } from '../../policy/paths.js';
import { DaemonClient } from '../../daemon/client.js';
import { runCommand } from '../command.js';

export default defineCommand({
  meta: { name: 'kill', description: 'Signal an agent (default TERM). A kill by you is not a crash: it stays stopped.' },
  args: {
    name: { type: 'positional', required: true, description: 'agent name' },
    signal: { type: 'string', alias: 's', default: 'TERM', description: 'HUP | INT | TERM | QUIT | KILL' },
  },
  run: ({ args }) =>
    runCommand(async () => {
      const name = String(args.name);
      await new DaemonClient(celistraPaths()).call<{ agent: AgentSummary }>('POST', `/v1/agents/${encodeURIComponent(name)}/kill`, { signal: args.signal });
      process.stdout.write(`${name}: sent SIG${String(args.signal).toUpperCase().replace(/^SIG/, '')}\n`);
    }),
});
