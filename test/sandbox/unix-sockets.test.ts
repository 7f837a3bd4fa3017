/**
 * A fenced command cannot create unix sockets (src/backends/seccomp/): it cannot connect to
 * a service listening on a socket file outside its workspace, nor bind one of its own,
 * nor reach for io_uring, while socketpair() still works. The same command with
 * --allow-unix-sockets does connect (so a refusal is the fence, not a broken test), and
 * that run warns that pathname-unix is not held. The service sees no connection from a
 * fenced run, and the directory holding its socket is unchanged.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { runCelistra } from '../support/celistra-cli.js';
import { isolatedEnv } from '../support/isolated-env.js';
import { snapshotTree } from '../support/fence-stage.js';
import { landlockBackend } from '../../src/backends/landlock/index.js';
import { bwrapBackend } from '../../src/backends/bwrap/index.js';

/** Prints one word per attempt: what happened, errno names for refusals. */
function probeScript(socketPath: string, workspace: string): string {
  return String.raw`
import ctypes, errno, socket, os
def attempt(label, fn):
    try:
        fn(); print(label, 'ok')
    except OSError as e:
        print(label, errno.errorcode.get(e.errno, e.errno))
def connect():
    s = socket.socket(socket.AF_UNIX); s.settimeout(2); s.connect(${JSON.stringify(socketPath)}); s.sendall(b'hi'); s.close()
def bind_own():
    s = socket.socket(socket.AF_UNIX); s.bind(${JSON.stringify(join(workspace, 'own.sock'))}); s.close()
def pair():
    a, b = socket.socketpair(); a.sendall(b'x'); assert b.recv(1) == b'x'
def dgram_pair():
    a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM); a.sendto(b'hi', ${JSON.stringify(socketPath.replace(/service\.sock$/, 'dgram.sock'))})
def inet():
    socket.socket(socket.AF_INET).close()
def uring():
    libc = ctypes.CDLL(None, use_errno=True); libc.syscall.restype = ctypes.c_long
    params = ctypes.create_string_buffer(120)
    fd = libc.syscall(425, 8, params)
    if fd < 0:
        e = ctypes.get_errno(); raise OSError(e, os.strerror(e))
    os.close(fd)
attempt('connect', connect)
attempt('bind', bind_own)
attempt('socketpair', pair)
attempt('dgram_pair', dgram_pair)
attempt('inet', inet)
attempt('io_uring', uring)
`;
}

function results(out: string): Record<string, string> {
  return Object.fromEntries(out.trim().split('\n').map((l) => l.split(' ') as [string, string]));
}

async function listen(path: string): Promise<{ server: Server; connections: () => number }> {
  let count = 0;
  const server = createServer((c) => {
    count++;
    c.destroy();
  });
  await new Promise<void>((resolve) => server.listen(path, resolve));
  // Reachable by any user, so only the fence can stand between an unprivileged run and it.
  chmodSync(path, 0o777);
  return { server, connections: () => count };
}

/** A scratch home, a workspace, and a service listening on a socket outside it. */
async function stageWithService() {
  const iso = isolatedEnv('celistra-unix-sockets-', '/var/tmp');
  const ws = join(iso.root, 'ws');
  const svc = join(iso.root, 'svc');
  mkdirSync(ws);
  mkdirSync(svc);
  chmodSync(svc, 0o755);
  const socketPath = join(svc, 'service.sock');
  return { iso, ws, svc, socketPath, ...(await listen(socketPath)) };
}

for (const backend of [landlockBackend, bwrapBackend]) {
  const caps = backend.probe();
  describe(`unix sockets under ${backend.name}`, { skip: caps.available ? false : `${backend.name} unavailable: ${caps.unavailableReason}` }, () => {
    test('a fenced command cannot connect to or create unix sockets, socketpair and inet sockets still work, and the service is untouched', async () => {
      const { iso, ws, svc, socketPath, server, connections } = await stageWithService();
      try {
        const before = snapshotTree(svc);
        const r = runCelistra(['run', '--backend', backend.name, '--workspace', ws, '--', 'python3', '-c', probeScript(socketPath, ws)], { env: iso.env });
        assert.equal(r.status, 0, r.stderr);
        assert.deepEqual(results(r.stdout.toString()), { connect: 'EPERM', bind: 'EPERM', socketpair: 'ok', dgram_pair: 'EPERM', inet: 'ok', io_uring: 'EPERM' });
        // Anything that reached the listen backlog is accepted once the loop runs.
        await sleep(200);
        assert.equal(connections(), 0, 'the service saw a connection from the fenced run');
        assert.deepEqual(snapshotTree(svc), before);
      } finally {
        server.close();
      }
    });

    test('with --allow-unix-sockets the same command connects, and the run warns that pathname-unix is not held', async () => {
      const { iso, ws, socketPath, server, connections } = await stageWithService();
      try {
        const r = runCelistra(['run', '--backend', backend.name, '--allow-unix-sockets', '--workspace', ws, '--', 'python3', '-c', probeScript(socketPath, ws)], { env: iso.env });
        assert.equal(r.status, 0, r.stderr);
        const got = results(r.stdout.toString());
        assert.equal(got.connect, 'ok');
        assert.equal(got.bind, 'ok');
        assert.match(r.stderr, /pathname-unix is not held for this run: .*--allow-unix-sockets/);
        await sleep(200);
        assert.equal(connections(), 1);
      } finally {
        server.close();
      }
    });
  });
}
