import { defineCommand } from 'citty';
import { spawn } from 'node:child_process';
import { CelistraError } from '../core/errors.js';
import { celistraPaths } from '../core/paths.js';
import { DaemonClient } from '../daemon/client.js';
import { DASHBOARD_LOGIN_PATH } from '../daemon/dashboard-server.js';
import { runCommand } from './command.js';

/** `--dashboard-port`: a TCP port (0 = any free one), `off`, or undefined for the default. */
export function parseDashboardPort(v: string | undefined): number | 'off' | undefined {
  if (v === undefined) return undefined;
  if (v === 'off') return 'off';
  const n = Number(v);
  if (!/^\d+$/.test(v) || n > 65535) throw new CelistraError('E_USAGE', `--dashboard-port must be a port number (0-65535) or off, not "${v}"`);
  return n;
}

/** The desktop's "open this URL" program; the URL is one argument, never a shell word. */
function openInBrowser(url: string): void {
  const opener = process.platform === 'darwin' ? 'open' : 'xdg-open';
  const child = spawn(opener, [url], { stdio: 'ignore', detached: true });
  child.on('error', (e) => process.stderr.write(`celistra: could not run ${opener} (${e.message}); open the URL above yourself\n`));
  child.unref();
}

export default defineCommand({
  meta: {
    name: 'dashboard',
    description: 'Print a one-time login link to the browser dashboard the daemon serves on 127.0.0.1 (valid for 60 s, one use).',
  },
  args: {
    open: { type: 'boolean', description: 'also open it in the default browser' },
    json: { type: 'boolean', description: 'print JSON: {url, expiresAt, port}' },
  },
  run: ({ args }) =>
    runCommand(async () => {
      const link = await new DaemonClient(celistraPaths()).call<{ url: string; expiresAt: number; port: number }>('POST', DASHBOARD_LOGIN_PATH, {});
      if (args.json) process.stdout.write(`${JSON.stringify(link)}\n`);
      else process.stdout.write(`${link.url}\n`);
      if (args.open) openInBrowser(link.url);
    }),
});
