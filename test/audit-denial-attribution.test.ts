import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DenialAttribution, procParent } from '../src/audit/denial-attribution.js';
import type { LandlockDenial } from '../src/audit/denial-events.js';

/** A process tree as a child → parent table; absent pids are processes that are gone. */
function tree(parents: Record<number, number>) {
  return (pid: number) => parents[pid];
}

const agents = [
  { agent: 'alpha', pids: [1000, 990] },
  { agent: 'beta', pids: [2000, 1990] },
];

function denial(over: Partial<LandlockDenial>): LandlockDenial {
  return { ts: 0, serial: 1, domain: 'd1', blockers: ['fs.write_file'], ...over };
}

test('a domain is attributed through its creator to the agent whose helper started it', () => {
  const a = new DenialAttribution(tree({ 1001: 1000, 1000: 990, 990: 1 }));
  a.domainStarted({ domain: 'd1', creatorPid: 1001 }, agents);
  assert.equal(a.attribute(denial({ pid: 5555 }), agents), 'alpha');
});

test('the domain keeps its agent after the creator has exited', () => {
  const parents: Record<number, number> = { 2001: 2000, 2000: 1990 };
  const a = new DenialAttribution(tree(parents));
  a.domainStarted({ domain: 'd2', creatorPid: 2001 }, agents);
  delete parents[2001];
  assert.equal(a.attribute(denial({ domain: 'd2' }), agents), 'beta');
});

test('when the creator is gone, the denied process’s own ancestry is used', () => {
  const a = new DenialAttribution(tree({ 3003: 3002, 3002: 1000 }));
  a.domainStarted({ domain: 'd3', creatorPid: 9999 }, agents);
  assert.equal(a.attribute(denial({ domain: 'd3', pid: 3003, ppid: 3002 }), agents), 'alpha');
});

test('a domain of another program on the host belongs to no agent', () => {
  const a = new DenialAttribution(tree({ 4001: 4000, 4000: 1 }));
  a.domainStarted({ domain: 'd4', creatorPid: 4001 }, agents);
  assert.equal(a.attribute(denial({ domain: 'd4', pid: 4001, ppid: 4000 }), agents), undefined);
});

test('a domain that ended is forgotten, so a reused id is looked up afresh', () => {
  const a = new DenialAttribution(tree({ 1001: 1000, 2001: 2000 }));
  a.domainStarted({ domain: 'd5', creatorPid: 1001 }, agents);
  a.domainEnded('d5');
  a.domainStarted({ domain: 'd5', creatorPid: 2001 }, agents);
  assert.equal(a.attribute(denial({ domain: 'd5' }), agents), 'beta');
});

test('a cycle in the parent table ends the walk', () => {
  const a = new DenialAttribution(tree({ 7000: 7001, 7001: 7000 }));
  assert.equal(a.attribute(denial({ domain: 'd6', pid: 7000 }), agents), undefined);
});

test('procParent reads the parent of a live process from /proc and nothing for a gone one', () => {
  assert.equal(procParent(process.pid), process.ppid);
  assert.equal(procParent(2 ** 22 + 12345), undefined);
});
