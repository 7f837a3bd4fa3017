import { join } from 'node:path';
import type { Attempt, Case } from '../case.js';
import { lit, sh } from '../quoting.js';

/** The token, the policies and the daemon config: an agent that reads or writes them can widen its own fence. */
const c: Case = {
  id: '18',
  title: "Celistra's policy, daemon config and token (and ~/.ssh keys): neither readable nor writable",
  section: 'D',
  expect: 'read-deny',
  attempts: (s) => {
    const secrets = [s.secrets.token, s.secrets.policy, s.secrets.daemonConfig, s.secrets.sshKey];
    const files: [string, string][] = [
      ['token', s.files.token],
      ['policy', s.files.policy],
      ['daemon config', s.files.daemonConfig],
      ['~/.ssh/id_ed25519', s.files.sshKey],
    ];
    const reads: Attempt[] = files.flatMap(([label, f]): Attempt[] => [
      { name: `sh cat ${label}`, via: 'sh', script: `cat ${sh(f)}`, secrets },
      { name: `node read ${label}`, via: 'node', script: `process.stdout.write(require('fs').readFileSync(${lit(f)},'utf8'))`, secrets },
      { name: `python read ${label}`, via: 'python3', script: `print(open(${lit(f)}).read())`, secrets },
    ]);
    reads.push({
      name: 'sh grep -r the config, state and runtime dirs',
      via: 'sh',
      script: `grep -r CELISTRA-SECRET ${sh(s.paths.configDir)} ${sh(s.paths.stateDir)} ${sh(s.paths.runtimeDir)} ${sh(join(s.home, '.ssh'))}`,
      secrets,
    });
    const writes: Attempt[] = [
      { name: 'sh overwrite the token', via: 'sh', script: `echo attacker-token > ${sh(s.files.token)}`, expect: 'content-writes' },
      { name: 'sh widen the policy', via: 'sh', script: `echo '{"workspace":"/"}' > ${sh(s.files.policy)}`, expect: 'content-writes' },
      { name: 'python add a policy file', via: 'python3', script: `open(${lit(join(s.paths.stateDir, 'policies', 'agent-a.json'))}, 'w').write('{}')`, expect: 'content-writes' },
      { name: 'node write the daemon config', via: 'node', script: `require('fs').writeFileSync(${lit(s.files.daemonConfig)},'{}')`, expect: 'content-writes' },
    ];
    return [...reads, ...writes];
  },
};
export default c;
