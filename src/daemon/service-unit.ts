import { homedir } from 'node:os';
import { join } from 'node:path';

/** Where `celistra daemon install` writes, and what it tells the user to run. */
export interface ServiceInstall {
  path: string;
  content: string;
  enable: string[];
}

/**
 * A systemd user unit. Each hardening option is one that agents tolerate (docs/daemon.md
 * explains each); KillMode=process lets holders, and so agents, outlive a daemon restart.
 */
export function systemdUnit(nodePath: string, cliPath: string, configHome: string): ServiceInstall {
  const content = `[Unit]
Description=Celistra daemon: supervised, sandboxed AI coding agents
Documentation=man:celistra(1)
After=default.target

[Service]
Type=simple
ExecStart=${nodePath} ${cliPath} daemon
Restart=on-failure
RestartSec=2
# Stop only the daemon: each agent lives in its own holder process, which the next
# daemon reconnects to. Stopping agents is \`celistra ctl kill\`, not a service stop.
KillMode=process
TimeoutStopSec=10
UMask=0077
NoNewPrivileges=yes
ProtectSystem=full
PrivateTmp=yes
RestrictSUIDSGID=yes
LockPersonality=yes
RestrictRealtime=yes
RestrictNamespaces=no
ProtectClock=yes
ProtectHostname=yes

[Install]
WantedBy=default.target
`;
  return {
    path: join(configHome, 'systemd', 'user', 'celistra.service'),
    content,
    enable: [
      'systemctl --user daemon-reload',
      'systemctl --user enable --now celistra.service',
      '# keep it running while you are logged out:',
      `loginctl enable-linger ${process.env.USER ?? '$USER'}`,
    ],
  };
}

/** A launchd agent for macOS: started at login, restarted when it dies. */
export function launchdPlist(nodePath: string, cliPath: string, logPath: string): ServiceInstall {
  const label = 'dev.celistra.daemon';
  const content = `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
  <key>Label</key><string>${label}</string>
  <key>ProgramArguments</key>
  <array><string>${nodePath}</string><string>${cliPath}</string><string>daemon</string></array>
  <key>RunAtLoad</key><true/>
  <key>KeepAlive</key><dict><key>SuccessfulExit</key><false/></dict>
  <key>AbandonProcessGroup</key><true/>
  <key>Umask</key><integer>63</integer>
  <key>StandardErrorPath</key><string>${logPath}</string>
  <key>StandardOutPath</key><string>${logPath}</string>
</dict>
</plist>
`;
  const path = join(homedir(), 'Library', 'LaunchAgents', `${label}.plist`);
  return { path, content, enable: [`launchctl bootstrap gui/$(id -u) ${path}`, `launchctl kickstart gui/$(id -u)/${label}`] };
}
