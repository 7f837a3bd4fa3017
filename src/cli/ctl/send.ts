import { defineCommand } from 'citty';
import { celistraPaths } from '../../policy/paths.js';
import { DaemonClient } from '../../daemon/client.js';
import { runCommand } from '../command.js';

export default defineCommand({
  meta: { name: 'send', description: 'Type TEXT into an agent\'s terminal, then Enter (unless --no-enter).' },
  args: {
    name: { type: 'positional', required: true, description: 'agent name' },
    text: { type: 'positional', required: true, description: 'the text to type' },
    enter: { type: 'boolean', default: true, description: 'press Enter after the text (--no-enter to omit)' },
  },
  run: ({ args }) =>
    runCommand(async () => {
      const data = String(args.text) + (args.enter === false ? '' : '\r');
      await new DaemonClient(celistraPaths()).call('POST', `/v1/agents/${encodeURIComponent(String(args.name))}/input`, { data });
    }),
});
