import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GUARANTEE_NAMES } from '../src/backends/backend.js';
import { landlockGuarantees } from '../src/backends/landlock/guarantees.js';
import { requiredAbi, minimumAbi, rightsUpTo } from '../src/backends/landlock/abi.js';
import type { LandlockFacts } from '../src/backends/landlock/probe.js';

function machine(over: Partial<LandlockFacts> = {}): LandlockFacts {
  return { built: true, helperPath: '/x/celistra-exec', kernelAbi: 7, abi: 7, userNamespaces: true, seccomp: true, ...over };
}

test('with ABI 7, user namespaces and seccomp every guarantee holds', () => {
  const g = landlockGuarantees(machine());
  for (const name of GUARANTEE_NAMES) assert.equal(g[name].status, 'enforced', name);
});

test('without seccomp filtering kernel keyrings are a declared gap, and so is the network (vsock)', () => {
  const g = landlockGuarantees(machine({ seccomp: false }));
  assert.equal(g['kernel-keyrings'].status, 'gap');
  assert.equal(g.network.status, 'gap');
  assert.match(g.network.status === 'gap' ? g.network.reason : '', /vsock/);
  assert.equal(g['host-knobs'].status, 'enforced');
  assert.equal(g['sandbox-init'].status, 'enforced');
});

test('without seccomp filtering pathname unix sockets are a declared gap, abstract ones still scoped', () => {
  const g = landlockGuarantees(machine({ seccomp: false }));
  assert.equal(g['pathname-unix'].status, 'gap');
  assert.match(g['pathname-unix'].status === 'gap' ? g['pathname-unix'].reason : '', /no seccomp filtering/);
  assert.equal(g['abstract-unix'].status, 'enforced');
});

test('signal scoping is a gap below ABI 6, with the reason; the seccomp filter still closes abstract sockets', () => {
  const g = landlockGuarantees(machine({ abi: 5 }));
  assert.equal(g.signals.status, 'gap');
  assert.match(g.signals.status === 'gap' ? g.signals.reason : '', /ABI 6/);
  assert.equal(g['abstract-unix'].status, 'enforced');
  assert.equal(g.ptrace.status, 'enforced');
});

test('below ABI 6 and without seccomp abstract unix sockets are a declared gap', () => {
  const g = landlockGuarantees(machine({ abi: 5, seccomp: false }));
  assert.equal(g['abstract-unix'].status, 'gap');
});

test('without user namespaces metadata writes, private /tmp and UDP are declared gaps', () => {
  const g = landlockGuarantees(machine({ userNamespaces: false }));
  assert.equal(g['metadata-writes'].status, 'gap');
  assert.equal(g['private-tmp'].status, 'gap');
  assert.equal(g.network.status, 'gap');
  assert.match(g.network.status === 'gap' ? g.network.reason : '', /UDP/);
  assert.equal(g['content-writes'].status, 'enforced');
  assert.equal(g['read-deny'].status, 'enforced');
});

test('the required ABI follows what namespaces can take over', () => {
  assert.equal(requiredAbi('off', true), 1);
  assert.equal(requiredAbi('on', false), 3);
  assert.equal(requiredAbi('off', false), 4);
  assert.equal(minimumAbi(true), 1);
  assert.equal(minimumAbi(false), 3);
});

test('rights are added ABI by ABI', () => {
  assert.ok(!rightsUpTo(1).includes('fs.refer'));
  assert.ok(rightsUpTo(2).includes('fs.refer'));
  assert.ok(!rightsUpTo(2).includes('fs.truncate'));
  assert.ok(rightsUpTo(4).includes('net.connect_tcp'));
  assert.ok(!rightsUpTo(4).includes('fs.ioctl_dev'));
  assert.ok(rightsUpTo(6).includes('scope.signal'));
  assert.deepEqual(rightsUpTo(9), rightsUpTo(7));
});

test('below ABI 6 without user namespaces the signals gap says leftover processes can outlive the agent', () => {
  const g = landlockGuarantees(machine({ abi: 5, userNamespaces: false }));
  assert.match(g.signals.status === 'gap' ? g.signals.reason : '', /SIGKILL celistra-exec itself.*outlives it/);
  const withNs = landlockGuarantees(machine({ abi: 5 }));
  assert.doesNotMatch(withNs.signals.status === 'gap' ? withNs.signals.reason : '', /outlives/);
});
