import { defineCommand } from 'citty';
import { spawn } from 'node:child_process';
import { celistraPaths } from '../policy/paths.js';
import { DaemonClient } from '../daemon/client.js';
import { parseHost, parsePort } from '../daemon/dashboard/config.js';
import { DASHBOARD_LOGIN_PATH, exposedWarning } from '../daemon/dashboard/server.js';
import { runCommand } from './command.js';

/** `--dashboard-port`: a TCP port (0 = any free one), `off`, or undefined for the config file's or the default. */
export function parseDashboardPort(v: string | undefined): number | 'off' | undefined {
  return v === undefined ? undefined : parsePort(v, '--dashboard-port');
}

/** `--dashboard-host`: an IP address to bind instead of 127.0.0.1 (warned about unless loopback). */
export function parseDashboardHost(v: string | undefined): string | undefined {
  return v === undefined ? undefined : parseHost(v, '--dashboard-host');
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
    description: 'Print a one-time login link to the browser dashboard the daemon serves (on 127.0.0.1 unless configured otherwise; valid for 60 s, one use).',
  },
  args: {
    open: { type: 'boolean', description: 'also open it in the default browser' },
    json: { type: 'boolean', description: 'print JSON: {url, expiresAt, port, host, exposed}' },
  },
  run: ({ args }) =>
    runCommand(async () => {
      const link = await new DaemonClient(celistraPaths()).call<{ url: string; expiresAt: number; port: number; host?: string; exposed?: boolean }>('POST', DASHBOARD_LOGIN_PATH, {});
      if (link.exposed && link.host) process.stderr.write(`celistra: warning: ${exposedWarning(link.host, link.port)}\n`);
      if (args.json) process.stdout.write(`${JSON.stringify(link)}\n`);
      else process.stdout.write(`${link.url}\n`);
      if (args.open) openInBrowser(link.url);
    }),
});
