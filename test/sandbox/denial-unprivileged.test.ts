/**
 * Run as an unprivileged user (scripts/test.js runs test/sandbox/ as celistra-ci too):
 * without CAP_AUDIT_READ the collector says why and records nothing.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadNativeFacts } from '../../src/backends/landlock/native-addon.js';
import { auditReaderPath, holdsCapability, readerBuilt } from '../../src/daemon/denial-kernel-audit.js';
import { startDenialCollector } from '../../src/daemon/denial-collector.js';

function skipReason(): string | undefined {
  if (process.platform !== 'linux') return 'Linux-only';
  if (holdsCapability('audit-read')) return 'this process holds CAP_AUDIT_READ; the unprivileged case runs as celistra-ci';
  const native = loadNativeFacts();
  if (!native.ok || native.facts.landlock.kernelAbi < 7) return 'Landlock ABI 7 is missing here, which is reported before the capability';
  if (!readerBuilt(auditReaderPath())) return 'celistra-audit is not built, which is reported before the capability';
  return undefined;
}
const skip = skipReason();

test('without CAP_AUDIT_READ no denials are collected and the reason names the capability', { skip }, async () => {
  const recorded: unknown[] = [];
  const collector = await startDenialCollector({ agents: () => [], record: (agent, data) => recorded.push({ agent, data }), enableKernelAudit: true });
  const s = collector.status();
  assert.equal(s.collecting, false);
  assert.match(s.reason, /needs CAP_AUDIT_READ/);
  assert.equal(s.kernelAuditEnabledByDaemon, false);
  await collector.stop();
  assert.deepEqual(recorded, []);
});
