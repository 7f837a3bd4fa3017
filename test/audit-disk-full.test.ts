import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, realpathSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { scratchDir } from './support/scratch-dir.js';

const AUDIT_INDEX = fileURLToPath(new URL('../src/audit/index.js', import.meta.url));
/** Root alone is not enough (a container may lack CAP_SYS_ADMIN): try it. */
function canMountPrivateTmpfs(): boolean {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return false;
  const probe = realpathSync(scratchDir('celistra-mount-probe-'));
  const r = spawnSync('unshare', ['-m', '--propagation', 'private', 'mount', '-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', probe], { stdio: 'ignore' });
  rmdirSync(probe);
  return r.status === 0;
}

// A real full disk: a 1 MiB tmpfs mounted in a private mount namespace (root only; the
// mount vanishes with the process and the host's mounts are untouched).
test('a full disk never makes record() throw; events wait, overflow is counted, and both land once there is room', { skip: !canMountPrivateTmpfs() && 'needs root with CAP_SYS_ADMIN and unshare(1) to mount a private tmpfs' }, () => {
  const mountPoint = realpathSync(scratchDir('celistra-full-'));
  const script = `
    import { openAuditLog } from ${JSON.stringify(AUDIT_INDEX)};
    import { openSync, writeSync, closeSync, rmSync } from 'node:fs';
    const stateDir = ${JSON.stringify(join(mountPoint, 'state'))};
    const log = openAuditLog({ stateDir, maxBuffered: 300 });
    log.record({ type: 'daemon-start' });
    const firstFlush = log.flush();
    // Fill every remaining byte.
    const filler = ${JSON.stringify(join(mountPoint, 'filler'))};
    const fd = openSync(filler, 'w');
    const chunk = Buffer.alloc(4096, 1);
    try { for (;;) writeSync(fd, chunk); } catch (e) { if (e.code !== 'ENOSPC') throw e; }
    closeSync(fd);
    let threw = false;
    try {
      for (let i = 0; i < 500; i++) log.record({ type: 'attach', agent: 'full', data: { client: 'c' + i, pad: 'x'.repeat(200) } });
    } catch { threw = true; }
    const flushWhileFull = log.flush();
    rmSync(filler);
    await new Promise((r) => setTimeout(r, 50));
    const flushAfter = log.flush();
    const rows = log.query({ limit: 1000 }).reverse();
    const loss = rows.find((r) => r.type === 'loss');
    console.log(JSON.stringify({ firstFlush, threw, flushWhileFull, flushAfter, attaches: rows.filter((r) => r.type === 'attach').map((r) => r.data.client), loss: loss && loss.data, verified: log.verify().ok }));
    log.close();
  `;
  const r = spawnSync('unshare', ['-m', '--propagation', 'private', 'sh', '-c', `mount -t tmpfs -o size=1m tmpfs "$1" && exec "$2" --input-type=module -e "$3"`, 'sh', mountPoint, process.execPath, script], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
  assert.equal(out.firstFlush, true);
  assert.equal(out.threw, false, 'record() did not throw on a full disk');
  assert.equal(out.flushWhileFull, false, 'flush() reports that events are still waiting');
  assert.equal(out.flushAfter, true);
  assert.deepEqual(out.attaches, Array.from({ length: 300 }, (_, i) => `c${i}`), 'the buffered events arrive in order');
  assert.equal(out.loss.dropped, 200);
  assert.match(out.loss.reason, /SQLITE_FULL|disk|full/i);
  assert.equal(out.verified, true);
  assert.deepEqual(readdirSync(mountPoint), [], 'the tmpfs lived only in the child\'s mount namespace');
});
