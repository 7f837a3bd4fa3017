import { defineCommand } from 'citty';
import { spawn } from 'node:child_process';
import { mkdirSync, openSync, closeSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CelistraError } from '../policy/errors.js';
import { celistraPaths } from '../policy/paths.js';
import { DEFAULT_RESTART_POLICY } from '../daemon/restart-policy.js';
import { DaemonClient } from '../daemon/client.js';
import { checkRuntimeDir, UntrustedSocketError } from '../daemon/socket-trust.js';
import { DAEMON_TITLE, runningDaemonPid } from '../daemon/lock.js';
import { DEFAULT_SCROLLBACK_KB, startDaemon } from '../daemon/server.js';
import { launchdPlist, systemdUnit } from '../daemon/service-unit.js';
import { DEFAULT_DASHBOARD_PORT } from '../daemon/dashboard/config.js';
import { parseDashboardHost, parseDashboardPort } from './dashboard.js';
import { runCommand } from './command.js';
import { formatDuration } from '../text/duration.js';

const MAIN = fileURLToPath(new URL('./main.js', import.meta.url));
const CLI = join(dirname(dirname(dirname(MAIN))), 'bin', 'celistra.js');

const daemonArgs = {
  'scrollback-kb': { type: 'string', description: `scrollback kept per agent, in KiB (default ${DEFAULT_SCROLLBACK_KB})`, valueHint: 'N' },
  'restart-delay-ms': { type: 'string', description: `first auto-restart delay, doubled per crash (default ${DEFAULT_RESTART_POLICY.baseDelayMs})`, valueHint: 'MS' },
  'dashboard-port': { type: 'string', description: `the browser dashboard's port (default: "port" in dashboard.json in the config dir, else ${DEFAULT_DASHBOARD_PORT}; 0: any free port, shown by \`daemon status\`; off: no dashboard)`, valueHint: 'N|off' },
  'dashboard-host': {
    type: 'string',
    description: 'bind the dashboard to this IP address instead of 127.0.0.1 (0.0.0.0: every interface). Beyond loopback other machines can reach it over plain HTTP: warned about, and it still needs the login link',
    valueHint: 'ADDR',
  },
  'enable-kernel-audit': {
    type: 'boolean',
    description: 'turn the kernel audit subsystem on if it is off (host-wide; root only), so Landlock denials reach the audit log; switched back off when the daemon stops (docs/audit.md)',
  },
} as const;

function positiveNumber(v: string | undefined, flag: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new CelistraError('E_USAGE', `${flag} must be a positive number, not "${v}"`);
  return n;
}

function daemonFlags(args: Record<string, unknown>): string[] {
  const out: string[] = [];
  for (const k of Object.keys(daemonArgs)) {
    if (typeof args[k] === 'string') out.push(`--${k}`, args[k] as string);
    else if (args[k] === true) out.push(`--${k}`);
  }
  return out;
}

const foreground = defineCommand({
  meta: { name: 'run', description: 'Run the daemon in the foreground (for service managers). SIGTERM stops it; agents keep running.' },
  args: daemonArgs,
  run: ({ args }) =>
    runCommand(async () => {
      const scrollbackKb = positiveNumber(args['scrollback-kb'], '--scrollback-kb');
      const baseDelayMs = positiveNumber(args['restart-delay-ms'], '--restart-delay-ms');
      process.title = DAEMON_TITLE;
      let stopRequested!: () => void;
      const requested = new Promise<string>((resolve) => (stopRequested = () => resolve('stop requested')));
      const daemon = await startDaemon({
        onStopRequested: () => stopRequested(),
        paths: celistraPaths(),
        scrollbackKb,
        restartPolicy: baseDelayMs === undefined ? undefined : { ...DEFAULT_RESTART_POLICY, baseDelayMs },
        enableKernelAudit: args['enable-kernel-audit'] === true,
        dashboardPort: parseDashboardPort(args['dashboard-port']),
        dashboardHost: parseDashboardHost(args['dashboard-host']),
      });
      // Client input is handled where it arrives; anything escaping is a bug to log,
      // not a reason to drop every agent's API.
      process.on('uncaughtException', (e) => process.stderr.write(`celistrad: internal error: ${e.stack ?? e.message}\n`));
      process.on('unhandledRejection', (e) => process.stderr.write(`celistrad: internal error: ${(e as Error)?.stack ?? String(e)}\n`));
      process.stderr.write(`celistrad: listening on ${daemon.socketPath} (pid ${process.pid})\n`);
      const signal = await Promise.race([
        requested,
        new Promise<string>((resolve) => {
          process.once('SIGTERM', () => resolve('SIGTERM'));
          process.once('SIGINT', () => resolve('SIGINT'));
        }),
      ]);
      const left = daemon.supervisor.list().filter((a) => a.state === 'running').length;
      process.stderr.write(`celistrad: ${signal}: stopping; ${left} agent(s) keep running in their holders\n`);
      await daemon.stop();
      return 0;
    }),
});

const start = defineCommand({
  meta: { name: 'start', description: 'Start the daemon in the background (logs in the state dir).' },
  args: daemonArgs,
  run: ({ args }) =>
    runCommand(async () => {
      parseDashboardPort(args['dashboard-port']);
      parseDashboardHost(args['dashboard-host']);
      const paths = celistraPaths();
      const running = runningDaemonPid(paths.runtimeDir);
      if (running !== undefined) {
        process.stdout.write(`celistrad is already running (pid ${running})\n`);
        return 0;
      }
      mkdirSync(paths.stateDir, { recursive: true, mode: 0o700 });
      const logPath = join(paths.stateDir, 'daemon.log');
      const log = openSync(logPath, 'a', 0o600);
      const child = spawn(process.execPath, [MAIN, 'daemon', 'run', ...daemonFlags(args)], { detached: true, stdio: ['ignore', log, log] });
      closeSync(log);
      let exited: number | null | undefined;
      child.once('exit', (code) => (exited = code));
      const client = new DaemonClient(paths);
      const deadline = Date.now() + 10_000;
      while (Date.now() < deadline && exited === undefined) {
        let status: { pid: number } | undefined;
        try {
          status = await client.call<{ pid: number }>('GET', '/v1/status');
        } catch (e) {
          if (e instanceof UntrustedSocketError) {
            child.kill('SIGTERM');
            throw e;
          }
          await new Promise((r) => setTimeout(r, 100));
          continue;
        }
        // Only the daemon we started counts: whatever else answers (one that another
        // start won the race to, or anything posing as it) is not reported as started.
        if (status.pid !== child.pid) {
          await new Promise((r) => setTimeout(r, 100));
          if (exited !== undefined) break;
          continue;
        }
        child.unref();
        process.stdout.write(`celistrad started (pid ${status.pid}), socket ${client.socketPath}, log ${logPath}\n`);
        return 0;
      }
      child.unref();
      const tail = existsSync(logPath) ? readFileSync(logPath, 'utf8').split('\n').slice(-6).join('\n') : '';
      throw new CelistraError('E_DAEMON', `the daemon did not start${exited !== undefined ? ` (exit ${exited})` : ''}; last log lines:\n${tail}`, `see ${logPath}`);
    }),
});

const stop = defineCommand({
  meta: { name: 'stop', description: 'Stop the background daemon (SIGTERM). Agents keep running and the next daemon picks them up, unless --agents.' },
  args: {
    agents: { type: 'boolean', description: 'end every agent first (SIGTERM, SIGKILL after 5 s), then stop the daemon' },
  },
  run: ({ args }) =>
    runCommand(async () => {
      const paths = celistraPaths();
      // The lock file names the pid to signal: only a runtime dir of ours is believed.
      checkRuntimeDir(paths.runtimeDir);
      const pid = runningDaemonPid(paths.runtimeDir);
      if (pid === undefined) {
        if (args.agents) throw new CelistraError('E_DAEMON', 'celistrad is not running, so it cannot end its agents', 'start it (`celistra daemon start`): it reconnects to the agents, then run `celistra daemon stop --agents`');
        process.stdout.write('celistrad is not running\n');
        return 0;
      }
      let ended = '';
      if (args.agents) {
        // The daemon answers once every agent has exited, then stops by itself.
        await new DaemonClient(paths).call('POST', '/v1/shutdown', { agents: true });
        ended = ' with all its agents';
      } else {
        process.kill(pid, 'SIGTERM');
      }
      const deadline = Date.now() + 10_000;
      while (Date.now() < deadline) {
        if (runningDaemonPid(paths.runtimeDir) !== pid) {
          process.stdout.write(`celistrad stopped${ended} (pid ${pid})\n`);
          return 0;
        }
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new CelistraError('E_DAEMON', `celistrad (pid ${pid}) did not stop within 10 s`, `kill -9 ${pid} is safe: agents live in their holders`);
    }),
});

const status = defineCommand({
  meta: { name: 'status', description: 'Is the daemon running? pid, uptime, agents.' },
  args: { json: { type: 'boolean', description: 'print JSON' } },
  run: ({ args }) =>
    runCommand(async () => {
      const s = await new DaemonClient(celistraPaths()).call<{ pid: number; uptimeMs: number; agents: number; socketPath: string; version: string; scrollbackBytes: number; dashboard?: { url: string | null; exposed?: boolean } | null }>('GET', '/v1/status');
      if (args.json) process.stdout.write(`${JSON.stringify(s, null, 2)}\n`);
      else {
        // An older daemon has no dashboard field: say nothing about it.
        const dashboard = s.dashboard === undefined ? '' : `, dashboard ${s.dashboard?.url ?? 'off'}${s.dashboard?.exposed ? ' (beyond loopback: other machines can reach it)' : ''}`;
        process.stdout.write(`celistrad ${s.version} running: pid ${s.pid}, up ${formatDuration(s.uptimeMs)}, ${s.agents} agent(s), socket ${s.socketPath}${dashboard}\n`);
      }
    }),
});

const install = defineCommand({
  meta: { name: 'install', description: 'Write a systemd user unit (Linux) or launchd agent (macOS) and print how to enable it.' },
  args: { print: { type: 'boolean', description: 'print the unit instead of writing it' } },
  run: ({ args }) =>
    runCommand(async () => {
      const paths = celistraPaths();
      const configHome = process.env.XDG_CONFIG_HOME || join(paths.home, '.config');
      const svc = process.platform === 'darwin' ? launchdPlist(process.execPath, CLI, join(paths.stateDir, 'daemon.log')) : systemdUnit(process.execPath, CLI, configHome);
      if (args.print) {
        process.stdout.write(svc.content);
        return 0;
      }
      mkdirSync(dirname(svc.path), { recursive: true });
      writeFileSync(svc.path, svc.content, { mode: 0o644 });
      process.stdout.write(`wrote ${svc.path}\nenable it with:\n${svc.enable.map((l) => `  ${l}`).join('\n')}\n`);
    }),
});

export default defineCommand({
  meta: { name: 'daemon', description: 'The Celistra daemon (celistrad): `daemon` runs it in the foreground; start | stop | status | install.' },
  args: daemonArgs,
  default: 'run',
  subCommands: { run: foreground, start, stop, status, install },
});
