import type { Attempt, Case } from '../case.js';
import { lit } from '../quoting.js';

/**
 * Other agents' and the daemon's sockets: abstract unix names and pathname sockets.
 * No Node attempt at the abstract name: Node pads abstract addresses to the full
 * sockaddr length, so it could never reach an exactly-named socket, fence or not.
 */
const c: Case = {
  id: '22',
  title: "abstract and pathname unix sockets of other agents and the daemon",
  section: 'E',
  expect: 'abstract-unix',
  attempts: (s) => {
    const { abstractName, agentSocket } = s.sockets!;
    const attempts: Attempt[] = [
      { name: 'sh socat ABSTRACT-CONNECT', via: 'sh', script: `echo hi | socat -t1 - ABSTRACT-CONNECT:${abstractName}` },
      {
        name: 'python connect abstract',
        via: 'python3',
        script: `import socket
s = socket.socket(socket.AF_UNIX); s.settimeout(2); s.connect(${lit(`\0${abstractName}`)}); s.sendall(b'hi'); print('connected')`,
      },
      { name: "sh socat to another agent's pathname socket", via: 'sh', script: `echo hi | socat -t1 - UNIX-CONNECT:${agentSocket}`, expect: 'pathname-unix' },
      {
        name: "python connect another agent's pathname socket",
        via: 'python3',
        expect: 'pathname-unix',
        script: `import socket
s = socket.socket(socket.AF_UNIX); s.settimeout(2); s.connect(${lit(agentSocket)}); print('connected')`,
      },
    ];
    return attempts;
  },
};
export default c;
