import { defineCommand } from 'citty';
import type WebSocket from 'ws';
import { celistraPaths } from '../../policy/paths.js';
import { DaemonClient } from '../../daemon/client.js';
import { TERMINAL_ENTER, TERMINAL_RESTORE } from '../../terminal/output-filter.js';
import { runCommand } from '../command.js';

/** Ctrl-\ : detaches (the agent keeps running). Not Ctrl-C, which belongs to the agent. */
export const DETACH_KEY = 0x1c;

/** Clear the (alternate) screen and reset attributes before drawing the agent's screen. */
const CLEAR = '\x1b[0m\x1b[H\x1b[2J';

export default defineCommand({
  meta: { name: 'attach', description: "Attach this terminal to an agent: its current screen, then live. Detach with Ctrl-\\ (the agent keeps running)." },
  args: {
    name: { type: 'positional', required: true, description: 'agent name' },
    'read-only': { type: 'boolean', description: 'watch only: keystrokes are not sent (Ctrl-\\ or Ctrl-C detaches)' },
  },
  run: ({ args }) =>
    runCommand(async () => {
      const name = String(args.name);
      const readOnly = args['read-only'] === true;
      const stdout = process.stdout;
      const ws = await new DaemonClient(celistraPaths()).attach(name, {
        readOnly: readOnly ? 1 : undefined,
        replay: 'screen',
        cols: stdout.columns,
        rows: stdout.rows,
      });
      return relay(ws, name, readOnly);
    }),
});

function relay(ws: WebSocket, name: string, readOnly: boolean): Promise<number> {
  const stdin = process.stdin;
  const stdout = process.stdout;
  return new Promise((resolve) => {
    let detached = false;
    const restore = () => {
      stdin.off('data', onInput);
      stdout.off('resize', onResize);
      if (stdin.isTTY) stdin.setRawMode(false);
      stdin.pause();
    };
    const onInput = (data: Buffer) => {
      const detachAt = data.indexOf(DETACH_KEY);
      const ctrlC = readOnly ? data.indexOf(0x03) : -1;
      const stop = [detachAt, ctrlC].filter((i) => i >= 0);
      const cut = stop.length ? Math.min(...stop) : -1;
      const keys = cut === -1 ? data : data.subarray(0, cut);
      if (!readOnly && keys.length) ws.send(keys, { binary: true });
      if (cut !== -1) {
        detached = true;
        ws.close(1000, 'detached');
      }
    };
    const onResize = () => ws.send(JSON.stringify({ type: 'resize', cols: stdout.columns, rows: stdout.rows }));
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (isBinary) {
        stdout.write(data);
        return;
      }
      const msg = JSON.parse(data.toString('utf8')) as { type: string; data?: string; message?: string };
      if (msg.type === 'screen') stdout.write(CLEAR + (msg.data ?? ''));
      else if (msg.type === 'error') process.stderr.write(`\r\ncelistra: ${msg.message}\r\n`);
    });
    ws.on('close', (code: number, reason: Buffer) => {
      // Whatever modes the agent's output left, the terminal gets the state it had.
      if (stdout.isTTY) stdout.write(TERMINAL_RESTORE);
      restore();
      const why = reason.toString() || `connection closed (${code})`;
      stdout.write(detached ? `\r\n[detached from ${name}]\r\n` : `\r\n[${name}: ${why}]\r\n`);
      resolve(detached || code === 1000 ? 0 : 72);
    });
    ws.on('error', () => ws.terminate());
    if (stdin.isTTY) stdin.setRawMode(true);
    // The alternate screen, as tmux does: detach gives the user's screen and scrollback back.
    if (stdout.isTTY) stdout.write(TERMINAL_ENTER);
    stdin.on('data', onInput);
    stdin.resume();
    stdout.on('resize', onResize);
    ws.resume();
  });
}
