import { defineCommand } from 'citty';
import { CelistraError } from '../../policy/errors.js';
import { celistraPaths } from '../../policy/paths.js';
import { DaemonClient } from '../../daemon/client.js';
import { OutputFilter } from '../../terminal/output-filter.js';
import { runCommand } from '../command.js';

export default defineCommand({
  meta: { name: 'logs', description: "An agent's recent output from its scrollback ring (64 KiB by default)." },
  args: {
    name: { type: 'positional', required: true, description: 'agent name' },
    bytes: { type: 'string', description: 'only the last N bytes', valueHint: 'N' },
    follow: { type: 'boolean', alias: 'f', description: 'keep printing new output until the agent exits (Ctrl-C stops)' },
    raw: { type: 'boolean', description: "the bytes exactly as the agent printed them, escape sequences and all (not for a terminal: they act on it)" },
  },
  run: ({ args }) =>
    runCommand(async () => {
      const name = String(args.name);
      let bytes: number | undefined;
      if (args.bytes !== undefined) {
        bytes = Number(args.bytes);
        if (!Number.isInteger(bytes) || bytes < 0) throw new CelistraError('E_USAGE', `--bytes must be a non-negative integer, not "${args.bytes}"`);
      }
      const client = new DaemonClient(celistraPaths());
      // Text unless --raw: stored output replayed into a terminal would run its queries
      // and escapes again, with the replies landing in the user's shell.
      const text = args.raw ? undefined : new OutputFilter('text');
      const render = (data: Buffer) => (text ? text.push(data) : data);
      if (!args.follow) {
        process.stdout.write(render(await client.logs(name, bytes)));
        return 0;
      }
      const ws = await client.attach(name, { readOnly: 1, replay: 'logs', bytes });
      return new Promise<number>((resolve) => {
        ws.on('message', (data: Buffer, isBinary: boolean) => {
          if (isBinary) {
            process.stdout.write(render(data));
            return;
          }
          // A reader that falls too far behind is moved to the present, not fed the backlog.
          const msg = JSON.parse(data.toString('utf8')) as { reason?: string };
          if (msg.reason === 'resync') process.stderr.write('\ncelistra: output skipped: this reader fell more than 1 MiB behind\n');
        });
        ws.on('close', (code: number, reason: Buffer) => {
          if (code !== 1000) process.stderr.write(`celistra: ${reason.toString() || `connection closed (${code})`}\n`);
          resolve(code === 1000 ? 0 : 72);
        });
        ws.on('error', () => ws.terminate());
        ws.resume();
      });
    }),
});
