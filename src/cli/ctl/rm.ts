import { defineCommand } from 'citty';
import { celistraPaths } from '../../policy/paths.js';
import { DaemonClient } from '../../daemon/client.js';
import { runCommand } from '../command.js';

export default defineCommand({
  meta: { name: 'rm', description: 'Forget an agent that is not running (kill it first).' },
  args: { name: { type: 'positional', required: true, description: 'agent name' } },
  run: ({ args }) =>
    runCommand(async () => {
      const name = String(args.name);
      await new DaemonClient(celistraPaths()).call('DELETE', `/v1/agents/${encodeURIComponent(name)}`);
      process.stdout.write(`${name}: removed\n`);
    }),
});
