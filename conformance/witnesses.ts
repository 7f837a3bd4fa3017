import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Stage, VictimInfo } from './stage.js';
import { descendants, findDescendant, statusField } from './host-proc.js';
import { runArgs, type SessionTarget } from './fenced-session.js';
import { undoOnInterrupt } from './interrupt-cleanup.js';
import { StageRefused } from './stage-refused.js';
import { EXIT_CODES } from '../src/cli/exit-codes.js';

/**
 * The victim stands in for another agent or the daemon. It reports on stdout every
 * signal it receives, a tracer attaching to it, and any write into its canary buffer,
 * so the host sees signals, ptrace and memory writes without trusting the attacker.
 */
const VICTIM_PY = String.raw`
import ctypes, os, signal, socket, sys, time
canary = ctypes.create_string_buffer(b'CANARY-INTACT', 64)
listener = None
if len(sys.argv) > 1:
    # Abstract names are matched byte for byte; Python binds the exact name (Node pads it).
    listener = socket.socket(socket.AF_UNIX)
    listener.bind('\0' + sys.argv[1])
    listener.listen(8)
    listener.setblocking(False)
def report(sig, frame):
    print('SIG', signal.Signals(sig).name, flush=True)
for s in (signal.SIGUSR1, signal.SIGUSR2, signal.SIGTERM, signal.SIGHUP, signal.SIGINT, signal.SIGURG, signal.SIGWINCH, signal.SIGCONT):
    signal.signal(s, report)
print('READY', os.getpid(), os.getpgid(0), ctypes.addressof(canary), flush=True)
while True:
    time.sleep(0.02)
    if listener is not None:
        try:
            conn, _ = listener.accept()
            print('CONNECTION to abstract socket', flush=True)
            conn.close()
        except BlockingIOError:
            pass
    if canary.value != b'CANARY-INTACT':
        print('CORRUPTED', canary.value, flush=True)
        canary.value = b'CANARY-INTACT'
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith('TracerPid:') and line.split()[1] != '0':
                print('TRACED', line.split()[1], flush=True)
`;

export interface Witnesses {
  /** Everything seen so far: connections accepted, signals, tracing, memory writes. */
  events: string[];
  close(): Promise<void>;
}

function listen(server: Server, target: string | number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    if (typeof target === 'number') server.listen(target, '127.0.0.1', () => resolve());
    else server.listen(target, () => resolve());
  });
}

function startVictim(child: ChildProcess, label: string, events: string[], hostPid: () => number | undefined): Promise<VictimInfo> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${label} victim did not start`)), 30_000);
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      events.push(`${label} exited (${code})`);
      if (code === EXIT_CODES.E_NO_BACKEND) return reject(new StageRefused(stderr.trim().replace(/^celistra: /, '').replace(/\s*\n\s*/g, ' ')));
      reject(new Error(`${label} victim exited early (${code}): ${stderr.trim()}`));
    });
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const m = /^READY (\d+) (\d+) (\d+)$/.exec(line);
      if (m) {
        clearTimeout(timer);
        const pid = hostPid() ?? Number(m[1]);
        resolve({ pid, pgid: child.pid!, canaryAddr: m[3]! });
      } else {
        events.push(`${label}: ${line}`);
      }
    });
  });
}

/** Start the sockets and the two victims; their observations feed every judgement. */
export async function startWitnesses(stage: Stage, target: SessionTarget): Promise<Witnesses> {
  const events: string[] = [];
  const servers: Server[] = [];
  const accepted: Socket[] = [];
  const serve = async (label: string, at: string | number): Promise<Server> => {
    const s = createServer((sock) => {
      events.push(`connection to ${label}`);
      accepted.push(sock);
      sock.on('error', () => undefined);
      sock.end('HTTP/1.1 403 Forbidden\r\n\r\n');
    });
    await listen(s, at);
    servers.push(s);
    return s;
  };
  const abstractName = `celistra-conf-${stage.tag}-daemon`;
  const daemonSocket = join(stage.paths.runtimeDir, 'daemon.sock');
  await serve('daemon socket', daemonSocket);
  const agentSocket = join(stage.outside, 'agent-b.sock');
  await serve('agent socket', agentSocket);
  const tcp = await serve('loopback TCP port', 0);
  const addr = tcp.address();
  stage.sockets = { abstractName, daemonSocket, agentSocket, tcpPort: typeof addr === 'object' && addr ? addr.port : 0 };

  const script = join(stage.outside, 'victim.py');
  writeFileSync(script, VICTIM_PY);
  const children: ChildProcess[] = [];
  // A secret in the victims' environment: reading /proc/<pid>/environ would leak it.
  const victimEnv = { ...stage.env, CELISTRA_VICTIM_SECRET: stage.secrets.victimEnv };
  const daemon = spawn('python3', ['-u', script, abstractName], { cwd: stage.outside, env: victimEnv, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  children.push(daemon);
  const agent = spawn(process.execPath, [...runArgs(target, stage.wtB, {}), '--', 'python3', '-u', script], { env: victimEnv, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  children.push(agent);
  const killAll = () => {
    // A backend may start the fenced command in a session of its own: kill every
    // descendant by pid, not just the process groups we made.
    const pids = children.flatMap((c) => (c.pid ? [c.pid, ...descendants(c.pid)] : []));
    for (const c of children) {
      try {
        process.kill(-c.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  };
  const forgetVictims = undoOnInterrupt(killAll);
  const close = async () => {
    killAll();
    forgetVictims();
    // A server closes only once its connections are gone.
    for (const sock of accepted) sock.destroy();
    await Promise.all(servers.map((s) => new Promise((r) => s.close(() => r(undefined)))));
  };
  let watch: NodeJS.Timeout | undefined;
  const closeAll = async () => {
    clearInterval(watch);
    await close();
  };
  try {
    stage.victims.daemon = await startVictim(daemon, 'daemon', events, () => daemon.pid);
    stage.victims.agent = await startVictim(agent, 'agent-b', events, () => findDescendant(agent.pid!, 'victim.py'));
  } catch (e) {
    await closeAll();
    throw e;
  }
  // The host watches for a tracer too: PTRACE_ATTACH stops the victim, so it cannot
  // report the attach itself while it lasts.
  const victims = [['daemon', stage.victims.daemon.pid], ['agent-b', stage.victims.agent.pid]] as const;
  watch = setInterval(() => {
    for (const [label, pid] of victims) {
      const tracer = statusField(pid, 'TracerPid');
      if (tracer && tracer !== '0') events.push(`${label}: traced by pid ${tracer} (seen by the host)`);
    }
  }, 20);
  return { events, close: closeAll };
}
