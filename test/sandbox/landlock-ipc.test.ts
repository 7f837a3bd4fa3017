import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { landlockBackend } from '../../src/backends/landlock/index.js';
import { runCelistra } from '../support/celistra-cli.js';
import { fenceStage } from '../support/fence-stage.js';

const landlockCaps = landlockBackend.probe();
// Without user namespaces there is no IPC namespace: SysV IPC is the host's, a gap docs/security.md declares.
const skip = !landlockCaps.available ? 'the Landlock backend is not available here' : landlockCaps.details.userNamespaces ? false : 'no user namespaces here, so no private IPC namespace (a declared gap)';

// A host process holding a SysV shared memory segment under a fixed key, printing
// READY, then (on any stdin line) printing the segment's bytes.
const HOST_SEGMENT = `
import ctypes, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.shmat.restype = ctypes.c_void_p
key = int(sys.argv[1], 16)
shmid = libc.shmget(key, 4096, 0o1666)
assert shmid >= 0, ctypes.get_errno()
addr = libc.shmat(shmid, None, 0)
ctypes.memmove(addr, b"HOST-DATA", 9)
print("READY", flush=True)
sys.stdin.readline()
print(ctypes.string_at(addr, 11).decode("latin1"), flush=True)
libc.shmctl(shmid, 0, None)
`;

// Inside the fence: find the host's segment by key and scribble on it.
const AGENT_ATTEMPT = `
import ctypes, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.shmat.restype = ctypes.c_void_p
shmid = libc.shmget(int(sys.argv[1], 16), 0, 0)
if shmid < 0:
    print("NOT-FOUND", ctypes.get_errno())
    sys.exit(0)
addr = libc.shmat(shmid, None, 0)
ctypes.memmove(addr, b"AGENT-WROTE", 11)
print("WROTE")
`;

test('a fenced agent cannot reach the host\'s SysV shared memory (private IPC namespace)', { skip }, async () => {
  const s = fenceStage('celistra-landlock-ipc-');
  const key = (0x5e000000 + (process.pid & 0xffffff)).toString(16);
  const host = spawn('python3', ['-c', HOST_SEGMENT, key], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  host.stdout.on('data', (d) => (out += d));
  while (!out.includes('READY')) await once(host.stdout, 'data');
  try {
    const r = runCelistra(['run', '--backend', 'landlock', '--workspace', s.ws, '--', 'python3', '-c', AGENT_ATTEMPT, key], { env: s.env });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout.toString(), /NOT-FOUND/);
  } finally {
    host.stdin.end('\n');
    await once(host, 'exit');
    s.cleanup();
  }
  assert.match(out, /READY\nHOST-DATA/, 'the host segment is unchanged');
});
