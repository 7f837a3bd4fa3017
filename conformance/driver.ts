// Runs INSIDE the fence, launched by `celistra run`. It reads one attempt per line on
// stdin, runs it as its own process, and answers one line on stdout. One sandbox
// launch thus serves many attempts while the host still judges each one on its own.
import { spawnSync } from 'node:child_process';
import { createInterface } from 'node:readline';

interface Request {
  via: 'sh' | 'node' | 'python3';
  script: string;
  timeoutMs: number;
}

function commandFor(r: Request): [string, string[]] {
  if (r.via === 'sh') return ['sh', ['-c', r.script]];
  if (r.via === 'node') return [process.execPath, ['-e', r.script]];
  return ['python3', ['-c', r.script]];
}

process.stdout.write(`${JSON.stringify({ ready: true, pid: process.pid })}\n`);
for await (const line of createInterface({ input: process.stdin })) {
  const req = JSON.parse(line) as Request;
  const [file, args] = commandFor(req);
  const r = spawnSync(file, args, {
    encoding: 'utf8',
    timeout: req.timeoutMs,
    killSignal: 'SIGKILL',
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 1 << 20,
  });
  const timedOut = (r.error as NodeJS.ErrnoException | undefined)?.code === 'ETIMEDOUT';
  const stderr = (r.stderr ?? '') + (r.error && !timedOut ? `\n[driver] ${r.error.message}` : '');
  process.stdout.write(`${JSON.stringify({ status: r.status, stdout: r.stdout ?? '', stderr, timedOut })}\n`);
}
