/**
 * A preset's base is masked (every agent's state hidden) while the agent's own state dir
 * inside it is bound back writable, with its protected entries bound read-only inside
 * that. bwrap's mount order must keep all three: mask, then the own dir, then its carve-outs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mountSteps } from '../src/backends/bwrap/mount-plan.js';
import { bwrapArgs } from '../src/backends/bwrap/argv.js';
import type { Policy } from '../src/policy/policy.js';
import { scratchDir } from './support/scratch-dir.js';

function tree() {
  const root = realpathSync(scratchDir('celistra-bwrap-state-mask-'));
  const base = join(root, 'home', '.claude-celistra');
  const own = join(base, 'agents', 'ws-0123456789abcdef');
  const other = join(base, 'agents', 'wt-b-fedcba9876543210');
  for (const d of [join(own, 'hooks'), join(other, 'hooks'), join(root, 'ws'), join(root, 'tmp')]) mkdirSync(d, { recursive: true });
  for (const d of [own, other]) writeFileSync(join(d, 'settings.json'), '{}\n');
  const policy = {
    version: 1,
    workspace: join(root, 'ws'),
    writableRoots: [own],
    readOnlyPaths: [join(own, 'settings.json'), join(own, 'hooks'), join(other, 'settings.json')],
    denyRead: [base],
    tmpDir: join(root, 'tmp'),
    network: 'on',
    unixSockets: 'deny',
    env: {},
  } as Policy;
  return { root, base, own, other, policy, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

test('the base is masked first, the own state dir bound back inside it, and its protected entries bound read-only after that', () => {
  const t = tree();
  try {
    const steps = mountSteps(t.policy).map((s) => `${s.kind} ${s.path}`);
    const at = (step: string) => {
      const i = steps.indexOf(step);
      assert.notEqual(i, -1, `${step} missing from ${steps.join(', ')}`);
      return i;
    };
    const mask = at(`mask-dir ${t.base}`);
    const own = at(`writable ${t.own}`);
    assert.ok(mask < own, 'the own dir is bound after the mask, so it shows through');
    for (const p of [join(t.own, 'settings.json'), join(t.own, 'hooks')]) assert.ok(at(`read-only ${p}`) > own, `${p} is read-only over the writable own dir`);
  } finally {
    t.cleanup();
  }
});

test("a carve-out in a masked part no writable root brings back is left out: binding it would show another agent's file", () => {
  const t = tree();
  try {
    const steps = mountSteps(t.policy);
    assert.ok(!steps.some((s) => s.path.startsWith(t.other)), `nothing of ${t.other} is bound`);
  } finally {
    t.cleanup();
  }
});

test('the mask is made read-only only after the own dir is bound inside it', () => {
  const t = tree();
  try {
    const args = bwrapArgs(t.policy, ['true'], { asRoot: false });
    const bind = args.findIndex((a, i) => a === '--bind' && args[i + 1] === t.own);
    const remount = args.findIndex((a, i) => a === '--remount-ro' && args[i + 1] === t.base);
    assert.ok(bind > 0 && remount > bind, args.join(' '));
  } finally {
    t.cleanup();
  }
});
