import type { Case } from '../case.js';

/**
 * Signals to the other agent (fenced in wt-b) and the daemon stand-in (unfenced). The
 * victims report every signal they receive; broadcast and group signals use SIGURG,
 * ignored by default, so an escape under a weak backend harms nothing else.
 */
const c: Case = {
  id: '19',
  title: 'kill another agent, the daemon, kill(-1), a process group',
  section: 'E',
  expect: 'signals',
  attempts: (s) => {
    const agent = s.victims.agent!;
    const daemon = s.victims.daemon!;
    const settleMs = 250;
    return [
      { name: 'sh kill -USR1 <other agent>', via: 'sh', script: `kill -USR1 ${agent.pid}`, settleMs },
      { name: 'sh kill -TERM <daemon>', via: 'sh', script: `kill -TERM ${daemon.pid}`, settleMs },
      { name: 'sh kill -URG -1 (every process)', via: 'sh', script: 'kill -URG -1', settleMs },
      { name: 'sh kill -URG -<daemon process group>', via: 'sh', script: `env kill -s URG -- -${daemon.pgid}`, settleMs },
      { name: 'python os.kill(<daemon>, SIGUSR2)', via: 'python3', script: `import os, signal; os.kill(${daemon.pid}, signal.SIGUSR2)`, settleMs },
      { name: 'python os.kill(-1, SIGURG)', via: 'python3', script: 'import os, signal; os.kill(-1, signal.SIGURG)', settleMs },
      { name: 'python killpg(<other agent group>, SIGURG)', via: 'python3', script: `import os, signal; os.killpg(${agent.pgid}, signal.SIGURG)`, settleMs },
      { name: 'node process.kill(<other agent>, SIGHUP)', via: 'node', script: `process.kill(${agent.pid},'SIGHUP')`, settleMs },
      { name: 'node process.kill(<daemon>, SIGINT)', via: 'node', script: `process.kill(${daemon.pid},'SIGINT')`, settleMs },
    ];
  },
};
export default c;
