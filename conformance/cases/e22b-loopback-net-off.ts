import type { Case } from '../case.js';

/** With the network off, a loopback TCP port of the daemon or another agent is out of reach too. */
const c: Case = {
  id: '22b',
  title: 'loopback TCP port of the daemon / another agent with --net off',
  section: 'E',
  expect: 'network',
  launch: { net: 'off' },
  attempts: (s) => {
    const port = s.sockets!.tcpPort;
    return [
      { name: 'sh socat TCP 127.0.0.1', via: 'sh', script: `echo hi | socat -t1 - TCP:127.0.0.1:${port}` },
      {
        name: 'python connect 127.0.0.1',
        via: 'python3',
        script: `import socket
s = socket.create_connection(('127.0.0.1', ${port}), timeout=2); print('connected')`,
      },
      {
        name: 'node connect localhost',
        via: 'node',
        script: `const c=require('net').connect(${port},'localhost',()=>{console.log('connected');process.exit(0)});c.on('error',(e)=>{console.log(e.code);process.exit(1)});`,
      },
    ];
  },
};
export default c;
