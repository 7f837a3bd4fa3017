/**
 * The collector's pipeline (reader lines → events → agent → rate limit → record) driven
 * by a stand-in for celistra-audit that replays records captured on this machine, so no
 * kernel audit state is touched. Root only: the collector first checks CAP_AUDIT_READ.
 */
import assert from 'node:assert/strict';
import { chmodSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadNativeFacts } from '../src/backends/landlock/native-addon.js';
import { holdsCapability } from '../src/daemon/denial-kernel-audit.js';
import { startDenialCollector } from '../src/daemon/denial-collector.js';
import { RUN_A, RUN_A_HELPER_PID } from './denial-captured-records.js';
import { scratchDir } from './support/scratch-dir.js';

function skipReason(): string | undefined {
  if (process.platform !== 'linux') return 'Linux-only';
  if (!holdsCapability('audit-read') || !holdsCapability('audit-control')) return 'needs CAP_AUDIT_READ and CAP_AUDIT_CONTROL (root), which the collector checks first';
  const native = loadNativeFacts();
  if (!native.ok || native.facts.landlock.kernelAbi < 7) return 'needs Landlock ABI 7, which the collector checks first';
  return undefined;
}
const skip = skipReason();

/** A celistra-audit that reports audit on and replays `lines`, or fails after "ready". */
function fakeReader(dir: string, lines: string[], failAfterReady?: string): string {
  const recorded = join(dir, 'lines.txt');
  writeFileSync(recorded, lines.filter((l) => l !== 'ready').join('\n') + '\n');
  const read = failAfterReady ? `echo ready; sleep 0.2; echo '${failAfterReady}' >&2; exit 1` : `echo ready; cat '${recorded}'; exec sleep 30`;
  const path = join(dir, 'celistra-audit');
  writeFileSync(path, `#!/bin/sh\ncase "$1" in\n  status) echo "enabled=1 auditd_pid=0 lost=0 backlog=0 backlog_limit=64 rate_limit=0" ;;\n  read) ${read} ;;\nesac\n`);
  chmodSync(path, 0o755);
  return path;
}

function until(what: string, ok: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const check = () => {
      if (ok()) return resolve();
      if (Date.now() > deadline) return reject(new Error(`timed out waiting for ${what}`));
      setTimeout(check, 20);
    };
    check();
  });
}

test('captured records become one event per new denial and a repeat count when the collector stops', { skip }, async () => {
  const dir = scratchDir('celistra-denials-');
  try {
    const recorded: Array<{ agent: string; data: Record<string, unknown> }> = [];
    const collector = await startDenialCollector({
      agents: () => [{ agent: 'alpha', pids: [RUN_A_HELPER_PID] }],
      record: (agent, data) => recorded.push({ agent, data }),
      readerPath: fakeReader(dir, RUN_A),
    });
    assert.equal(collector.status().collecting, true, collector.status().reason);
    await until('two first-occurrence events', () => recorded.length === 2);
    await collector.stop();
    assert.deepEqual(
      recorded.map((r) => [r.agent, r.data.operation, r.data.path, r.data.count, r.data.repeated ?? false]),
      [
        ['alpha', 'fs.make_reg', '/tmp/den', 1, false],
        ['alpha', 'fs.make_dir', '/tmp/den', 1, false],
        ['alpha', 'fs.make_reg', '/tmp/den', 1, true],
      ],
    );
    assert.equal(recorded[1]!.data.comm, 'mkdir');
    assert.equal(collector.status().unattributed, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('denials of a sandbox that belongs to no agent are counted, not recorded', { skip }, async () => {
  const dir = scratchDir('celistra-denials-');
  try {
    const recorded: unknown[] = [];
    const collector = await startDenialCollector({ agents: () => [], record: (_a, d) => recorded.push(d), readerPath: fakeReader(dir, RUN_A) });
    await new Promise((r) => setTimeout(r, 300));
    await collector.stop();
    assert.deepEqual(recorded, []);
    assert.equal(collector.status().unattributed, 3);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a reader that dies is reported once, in the status and the log', { skip }, async () => {
  const dir = scratchDir('celistra-denials-');
  try {
    const logged: string[] = [];
    const collector = await startDenialCollector({ agents: () => [], record: () => {}, readerPath: fakeReader(dir, [], 'celistra-audit: cannot read from the audit read-log group: No buffer space'), log: (l) => logged.push(l) });
    await until('the reader’s exit to be noticed', () => !collector.status().collecting);
    assert.match(collector.status().reason, /the audit reader exited \(status 1\): celistra-audit: cannot read/);
    assert.deepEqual(logged, [`celistrad: sandbox denials: ${collector.status().reason}`]);
    await collector.stop();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
