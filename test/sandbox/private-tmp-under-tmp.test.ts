/**
 * The private-tmp guarantee, checked against what the fence really gives. Both Linux
 * backends mount an empty /tmp: another agent's /tmp files and sockets are absent. A
 * workspace under /tmp comes back inside it with its top-level /tmp/<x>, read-only, so a
 * sibling there is readable (as anything outside /tmp is) but not writable. Only a
 * writable root that holds /tmp itself keeps the host's /tmp, and the plan says so.
 */
import { isolatedEnv } from '../support/isolated-env.js';
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, realpathSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { runCelistra } from '../support/celistra-cli.js';
import { snapshotTree } from '../support/fence-stage.js';
import { landlockBackend } from '../../src/backends/landlock/index.js';
import { bwrapBackend } from '../../src/backends/bwrap/index.js';
import { buildPolicy } from '../../src/policy/policy.js';
import { celistraPaths } from '../../src/policy/paths.js';
import type { Backend } from '../../src/backends/backend.js';
import { scratchDir } from '../support/scratch-dir.js';

const OLD = new Date('2020-01-02T03:04:05Z');
const SECRET = 'CELISTRA-OTHER-AGENT-TMP-SECRET';
const BACKENDS: { backend: Backend; skip: string | false }[] = [landlockBackend, bwrapBackend].map((backend) => {
  const caps = backend.probe();
  const tmp = caps.guarantees['private-tmp'];
  // Landlock without user namespaces declares private-tmp a gap (no mount namespace): nothing here to hold.
  return { backend, skip: !caps.available ? `${backend.name} unavailable here: ${caps.unavailableReason}` : tmp.status === 'gap' ? `${backend.name} declares private-tmp a gap here: ${tmp.reason}` : false };
});

/** Another agent's objects in the host's /tmp: a file with a secret, and a listening unix socket. */
let other: string;
let server: Server;

before(async () => {
  other = realpathSync(scratchDir('celistra-other-agent-', '/tmp'));
  writeFileSync(join(other, 'scratch.txt'), `${SECRET}\n`);
  utimesSync(join(other, 'scratch.txt'), OLD, OLD);
  server = createServer((c) => c.destroy());
  await new Promise<void>((resolve) => server.listen(join(other, 'agent.sock'), resolve));
  utimesSync(other, OLD, OLD);
});

after(async () => {
  await new Promise((resolve) => server.close(resolve));
  rmSync(other, { recursive: true, force: true });
});

function stage(parent: string) {
  const { root, env } = isolatedEnv('celistra-private-tmp-', parent);
  const ws = join(root, 'ws');
  mkdirSync(ws);
  return { root, ws, env, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

/** What the backend's plan declares for a workspace in `s`. */
function declared(backend: Backend, s: ReturnType<typeof stage>): string | undefined {
  const tmpDir = join(s.root, 'plan-tmp');
  mkdirSync(tmpDir);
  const policy = buildPolicy({ workspace: s.ws, tmpDir, paths: celistraPaths(s.env) });
  return backend.plan(policy, ['true'], {}).degraded?.['private-tmp'];
}

/** One line per probe: READ/CONNECT/WRITE-TMP/WRITE-OTHER/WRITE-TMPDIR followed by ok or no. */
function probeScript(): string {
  const file = join(other, 'scratch.txt');
  const sock = join(other, 'agent.sock');
  return [
    `if cat '${file}' 2>/dev/null | grep -q ${SECRET}; then echo READ ok; else echo READ no; fi`,
    `if python3 -c "import socket,sys; s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])" '${sock}' 2>/dev/null; then echo CONNECT ok; else echo CONNECT no; fi`,
    `if echo x > /tmp/celistra-planted-$$ 2>/dev/null; then echo WRITE-TMP ok; else echo WRITE-TMP no; fi`,
    `if echo x > '${join(other, 'planted')}' 2>/dev/null; then echo WRITE-OTHER ok; else echo WRITE-OTHER no; fi`,
    `if echo x > "$TMPDIR/mine" 2>/dev/null; then echo WRITE-TMPDIR ok; else echo WRITE-TMPDIR no; fi`,
  ].join('\n');
}

function outcomes(stdout: string): Record<string, string> {
  return Object.fromEntries(stdout.trim().split('\n').map((l) => l.split(' ') as [string, string]));
}

for (const { backend, skip } of BACKENDS) {
  describe(`private-tmp under ${backend.name}`, { skip }, () => {
    test('with the workspace outside /tmp, the plan holds private-tmp and the host /tmp objects are absent', () => {
      const s = stage('/var/tmp');
      try {
        assert.equal(declared(backend, s), undefined);
        const before = snapshotTree(other);
        const r = runCelistra(['run', '--backend', backend.name, '--workspace', s.ws, '--', 'sh', '-c', probeScript()], { env: s.env });
        assert.equal(r.status, 0, r.stderr);
        assert.deepEqual(outcomes(r.stdout.toString()), { READ: 'no', CONNECT: 'no', 'WRITE-TMP': 'ok', 'WRITE-OTHER': 'no', 'WRITE-TMPDIR': 'ok' });
        assert.deepEqual(snapshotTree(other), before, "the other agent's /tmp dir changed");
      } finally {
        s.cleanup();
      }
    });

    test('with the workspace under /tmp, /tmp is still private; its top-level dir comes back read-only', () => {
      const s = stage('/tmp');
      try {
        assert.equal(declared(backend, s), undefined);
        const sibling = join(s.root, 'sibling.txt');
        writeFileSync(sibling, 'SIBLING\n');
        utimesSync(sibling, OLD, OLD);
        const before = snapshotTree(other);
        const siblingBefore = snapshotTree(sibling);
        const script = [
          probeScript(),
          `if grep -q SIBLING '${sibling}' 2>/dev/null; then echo READ-SIBLING ok; else echo READ-SIBLING no; fi`,
          `if echo x >> '${sibling}' 2>/dev/null; then echo WRITE-SIBLING ok; else echo WRITE-SIBLING no; fi`,
          `if echo x > '${join(s.ws, 'mine')}' 2>/dev/null; then echo WRITE-WS ok; else echo WRITE-WS no; fi`,
        ].join('\n');
        const r = runCelistra(['run', '--backend', backend.name, '--workspace', s.ws, '--', 'sh', '-c', script], { env: s.env });
        assert.equal(r.status, 0, r.stderr);
        assert.deepEqual(outcomes(r.stdout.toString()), {
          READ: 'no',
          CONNECT: 'no',
          'WRITE-TMP': 'ok',
          'WRITE-OTHER': 'no',
          'WRITE-TMPDIR': 'ok',
          'READ-SIBLING': 'ok',
          'WRITE-SIBLING': 'no',
          'WRITE-WS': 'ok',
        });
        assert.deepEqual(snapshotTree(other), before, "the other agent's /tmp dir changed");
        assert.deepEqual(snapshotTree(sibling), siblingBefore, "the workspace's sibling changed");
      } finally {
        s.cleanup();
      }
    });

    test('a writable root that holds /tmp keeps the host /tmp, and the plan says private-tmp is not held', () => {
      const s = stage('/var/tmp');
      try {
        const tmpDir = join(s.root, 'plan-tmp');
        mkdirSync(tmpDir);
        const policy = buildPolicy({ workspace: s.ws, allowWrite: ['/tmp'], tmpDir, paths: celistraPaths(s.env) });
        assert.match(backend.plan(policy, ['true'], {}).degraded?.['private-tmp'] ?? '', /the writable \/tmp is or holds \/tmp/);
      } finally {
        s.cleanup();
      }
    });
  });
}
