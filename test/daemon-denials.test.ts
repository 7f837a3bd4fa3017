/**
 * Landlock denials reach the audit log through a real daemon, on this machine's kernel.
 * Root only: reading the audit read log needs CAP_AUDIT_READ and switching kernel audit
 * on needs CAP_AUDIT_CONTROL. Each test puts kernel audit back the way it found it.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { openAuditLog, type AuditRow } from '../src/audit/index.js';
import { celistraPaths } from '../src/policy/paths.js';
import { auditReaderPath } from '../src/daemon/denial-kernel-audit.js';
import { startDaemon } from '../src/daemon/server.js';
import { cleanup, makeSandbox, spawnAgent, startDaemonProcess, waitFor } from './daemon-harness.js';
import { missingTool } from './support/optional-tool.js';

const reader = auditReaderPath();

function auditEnabled(): number {
  const out = execFileSync(reader, ['status'], { encoding: 'utf8' });
  return Number(/enabled=(\d+)/.exec(out)![1]);
}

function setAudit(enabled: number): void {
  execFileSync(reader, ['set-enabled', String(enabled)]);
}

/** Why these tests cannot run here, or undefined when they can. */
function skipReason(): string | undefined {
  if (process.platform !== 'linux') return 'Landlock audit records are Linux-only';
  if (process.getuid?.() !== 0) return 'needs root (CAP_AUDIT_READ to read the audit log, CAP_AUDIT_CONTROL to switch audit on)';
  try {
    const state = auditEnabled();
    if (state === 2) return 'kernel audit is locked (enabled=2) and cannot be switched for the test';
    // Setting the state it already has proves we may switch it (a container may refuse).
    setAudit(state);
  } catch (e) {
    return `celistra-audit cannot query or switch kernel audit here: ${(e as Error).message}`;
  }
  return undefined;
}
const skip = skipReason();
const skipWithoutSocat = skip ?? missingTool('socat', 'apt-get install -y socat');

function denials(stateDir: string, agent: string): AuditRow[] {
  const log = openAuditLog({ stateDir });
  try {
    return log.query({ agent, type: 'denial', limit: 100 });
  } finally {
    log.close();
  }
}

test('a daemon agent’s write outside its workspace is recorded as a Landlock denial, once plus a repeat count', { skip, timeout: 60_000 }, async () => {
  const found = auditEnabled();
  const sb = makeSandbox();
  // Without user namespaces Landlock itself refuses writes outside the workspace; with
  // them the read-only mount refuses first (EROFS) and Landlock never sees the write.
  sb.env.CELISTRA_FORCE_NO_USERNS = '1';
  sb.env.CELISTRA_LANDLOCK_ROOT_WITHOUT_USERNS = 'accept-metadata-gap';
  const host = join(sb.root, 'host-file.txt');
  writeFileSync(host, 'host content\n', { mode: 0o644 });
  const before = statSync(host);
  let daemon;
  try {
    if (found === 0) setAudit(1);
    daemon = await startDaemonProcess(sb);
    const status = await sb.client.call<{ denials: { collecting: boolean; reason: string } }>('GET', '/v1/status');
    assert.equal(status.denials.collecting, true, status.denials.reason);

    const script = `for i in $(seq 30); do echo pwned > '${host}'; done 2>/dev/null; sleep 1`;
    await spawnAgent(sb, 'writer', ['sh', '-c', script], { backend: 'landlock' });
    const first = await waitFor('a denial event for the agent', () => denials(sb.paths.stateDir, 'writer').find((r) => r.data.path === host));
    assert.equal(first.data.backend, 'landlock');
    assert.equal(first.data.operation, 'fs.write_file');
    assert.equal(first.data.count, 1);
    assert.equal(first.data.comm, 'sh');

    // A graceful stop closes the rate-limit window: the repeats become one counted event.
    daemon.proc.kill('SIGTERM');
    await daemon.exited;
    const rows = denials(sb.paths.stateDir, 'writer').filter((r) => r.data.path === host);
    assert.equal(rows.length, 2, JSON.stringify(rows.map((r) => r.data)));
    const repeat = rows.find((r) => r.data.repeated === true);
    assert.ok(repeat, 'a repeat-count event');
    const total = (repeat.data.count as number) + 1;
    assert.ok(total >= 2 && total <= 30, `between 2 and 30 attempts counted, not ${total}`);

    const after = statSync(host);
    assert.equal(readFileSync(host, 'utf8'), 'host content\n');
    assert.equal(after.mode, before.mode);
    assert.equal(after.mtimeMs, before.mtimeMs);
    assert.equal(after.ino, before.ino);
  } finally {
    await cleanup(sb, daemon);
    if (auditEnabled() !== found) setAudit(found);
  }
});

test('with user namespaces (the default here) a connect to a host abstract socket is recorded as a scope denial', { skip: skipWithoutSocat, timeout: 60_000 }, async () => {
  const found = auditEnabled();
  const sb = makeSandbox();
  const name = `celistra-denial-test-${process.pid}`;
  // socat, not node: libuv binds abstract names with a different length than socat connects to.
  const received = join(sb.root, 'received.txt');
  const listener = spawn('socat', ['-u', `ABSTRACT-LISTEN:${name},fork`, `OPEN:${received},creat,append`], { stdio: 'ignore' });
  await waitFor('the host listener', () => readFileSync('/proc/net/unix', 'utf8').includes(`@${name}`));
  let daemon;
  try {
    if (found === 0) setAudit(1);
    daemon = await startDaemonProcess(sb);
    // Unix sockets allowed: by default the seccomp filter refuses the socket before
    // Landlock's scope check could see (and log) the connect.
    await spawnAgent(sb, 'caller', ['sh', '-c', `echo hi | socat -u - ABSTRACT-CONNECT:${name}; sleep 1`], { backend: 'landlock', unixSockets: 'allow' });
    const row = await waitFor('a scope denial for the agent', () => denials(sb.paths.stateDir, 'caller').find((r) => r.data.path === `@${name}`)).catch(async (e) => {
      throw new Error(`${(e as Error).message}; daemon: ${JSON.stringify((await sb.client.call<{ denials: unknown }>('GET', '/v1/status')).denials)}; output: ${(await sb.client.logs('caller')).toString()}`);
    });
    assert.equal(row.data.operation, 'scope.abstract_unix_socket');
    assert.equal(row.data.comm, 'socat');
    assert.equal(existsSync(received), false, 'nothing reached the host listener');
  } finally {
    listener.kill('SIGKILL');
    await cleanup(sb, daemon);
    if (auditEnabled() !== found) setAudit(found);
  }
});

test('without the opt-in a daemon leaves disabled kernel audit alone and says why it records no denials', { skip, timeout: 30_000 }, async () => {
  const found = auditEnabled();
  const sb = makeSandbox();
  const lines: string[] = [];
  try {
    if (found !== 0) setAudit(0);
    // No dashboard: its line would join the one this test is about.
    const daemon = await startDaemon({ paths: celistraPaths(sb.env), dashboardPort: 'off', log: (l) => lines.push(l) });
    try {
      const s = daemon.denials();
      assert.equal(s.collecting, false);
      assert.match(s.reason, /kernel audit is disabled/);
      assert.equal(auditEnabled(), 0);
      assert.deepEqual(lines, [`celistrad: sandbox denials: ${s.reason}`]);
    } finally {
      await daemon.stop();
    }
    const log = openAuditLog({ stateDir: celistraPaths(sb.env).stateDir });
    const start = log.query({ type: 'daemon-start', limit: 1 })[0]!;
    log.close();
    assert.deepEqual((start.data.denials as { collecting: boolean }).collecting, false);
  } finally {
    await cleanup(sb);
    if (auditEnabled() !== found) setAudit(found);
  }
});

test('with the enableKernelAudit opt-in the daemon switches audit on and back off when it stops', { skip, timeout: 30_000 }, async () => {
  const found = auditEnabled();
  const sb = makeSandbox();
  try {
    if (found !== 0) setAudit(0);
    const daemon = await startDaemon({ paths: celistraPaths(sb.env), enableKernelAudit: true, log: () => {} });
    try {
      const s = daemon.denials();
      assert.equal(s.collecting, true, s.reason);
      assert.equal(s.kernelAuditEnabledByDaemon, true);
      assert.equal(auditEnabled(), 1);
    } finally {
      await daemon.stop();
    }
    assert.equal(auditEnabled(), 0);
  } finally {
    await cleanup(sb);
    if (auditEnabled() !== found) setAudit(found);
  }
});

/** Runs `body` in a fresh sandbox with kernel audit off, then restores the audit state found. */
async function withAuditOff(body: (sb: ReturnType<typeof makeSandbox>) => Promise<void>): Promise<void> {
  const found = auditEnabled();
  const sb = makeSandbox();
  try {
    if (found !== 0) setAudit(0);
    await body(sb);
  } finally {
    await cleanup(sb);
    if (auditEnabled() !== found) setAudit(found);
  }
}

/** A real daemon process that switched audit on with the opt-in, SIGKILLed: its mark's path and its pid. */
async function killedDaemonThatEnabledAudit(sb: ReturnType<typeof makeSandbox>): Promise<{ marker: string; pid: number }> {
  const marker = join(celistraPaths(sb.env).runtimeDir, 'kernel-audit-enabled.pid');
  const killed = await startDaemonProcess(sb, ['--enable-kernel-audit']);
  assert.equal(auditEnabled(), 1);
  assert.equal(readFileSync(marker, 'utf8').trim(), String(killed.pid));
  killed.proc.kill('SIGKILL');
  await killed.exited;
  // Nobody switched it back: this is what the mark is for.
  assert.equal(auditEnabled(), 1);
  return { marker, pid: killed.pid };
}

test('a daemon killed after switching audit on leaves a mark, and the next daemon switches audit back off', { skip, timeout: 60_000 }, () =>
  withAuditOff(async (sb) => {
    const killed = await killedDaemonThatEnabledAudit(sb);
    const lines: string[] = [];
    const daemon = await startDaemon({ paths: celistraPaths(sb.env), log: (l) => lines.push(l) });
    try {
      assert.equal(auditEnabled(), 0);
      assert.equal(existsSync(killed.marker), false);
      assert.ok(lines.some((l) => l.includes(`switched kernel audit back off: daemon pid ${killed.pid}`)), lines.join('\n'));
      assert.match(daemon.denials().reason, /kernel audit is disabled/);
    } finally {
      await daemon.stop();
    }
  }),
);

test('a daemon started with the opt-in takes over the switch a killed one left on, and switches it off when it stops', { skip, timeout: 60_000 }, () =>
  withAuditOff(async (sb) => {
    const killed = await killedDaemonThatEnabledAudit(sb);
    const daemon = await startDaemon({ paths: celistraPaths(sb.env), enableKernelAudit: true, log: () => {} });
    try {
      assert.equal(daemon.denials().kernelAuditEnabledByDaemon, true);
      assert.equal(readFileSync(killed.marker, 'utf8').trim(), String(process.pid));
    } finally {
      await daemon.stop();
    }
    assert.equal(auditEnabled(), 0);
    assert.equal(existsSync(killed.marker), false);
  }),
);
