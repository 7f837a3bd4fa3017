import type { Attempt, Case } from '../case.js';
import { lit } from '../quoting.js';

/**
 * The daemon's control socket (a listener standing in for it, in Celistra's runtime
 * dir): reaching it is how an agent would spawn, kill, attach or widen its own policy.
 * The listener records every connection; any connection is a breach.
 */
const c: Case = {
  id: '21',
  title: "the daemon's control socket and API: no spawn, kill, attach, or policy change from inside",
  section: 'E',
  expect: 'pathname-unix',
  attempts: (s) => {
    const sock = s.sockets!.daemonSocket;
    const req = 'POST /v1/agents HTTP/1.1\\r\\nHost: x\\r\\nContent-Length: 2\\r\\n\\r\\n{}';
    const attempts: Attempt[] = [
      { name: 'sh socat to the control socket', via: 'sh', script: `printf '${req}' | socat -t1 - UNIX-CONNECT:${sock}` },
      {
        name: 'python connect + POST /v1/agents',
        via: 'python3',
        script: `import socket
s = socket.socket(socket.AF_UNIX); s.settimeout(2); s.connect(${lit(sock)})
s.sendall(b'POST /v1/agents HTTP/1.1\\r\\nHost: x\\r\\nContent-Length: 2\\r\\n\\r\\n{}'); print(s.recv(100))`,
      },
      {
        name: 'node http request over the socket (PATCH own policy)',
        via: 'node',
        script: `const http=require('http');const r=http.request({socketPath:${lit(sock)},path:'/v1/agents/a/policy',method:'PATCH'},(res)=>{console.log(res.statusCode);process.exit(0)});r.on('error',(e)=>{console.log(e.code);process.exit(1)});r.end('{"writableRoots":["/"]}');`,
      },
    ];
    return attempts;
  },
};
export default c;
