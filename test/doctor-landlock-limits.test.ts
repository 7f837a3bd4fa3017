/**
 * What the Landlock backend refuses on this machine is said by `doctor` before any run
 * fails on it: a sandbox inside the fence (with namespaces), task worktrees (without).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCelistra } from './support/celistra-cli.js';
import { isolatedEnv } from './support/isolated-env.js';
import { landlockFacts } from '../src/backends/landlock/probe.js';

const facts = landlockFacts({});
const skip = !facts.built ? `the native addon is not built here: ${facts.buildProblem}` : !facts.userNamespaces ? 'no user namespaces here' : false;

function landlockDetails(env: Record<string, string>): Record<string, unknown> {
  const r = runCelistra(['doctor', '--json'], { env });
  const report = JSON.parse(r.stdout.toString()) as { backends: { backend: string; details: Record<string, unknown> }[] };
  return report.backends.find((b) => b.backend === 'landlock')!.details;
}

test('doctor says that a sandbox inside the landlock fence is refused, and what to use instead', { skip }, () => {
  const d = landlockDetails(isolatedEnv('celistra-doctor-').env);
  assert.match(String(d.nestedSandboxes), /^refused: .*uid map.*--backend bwrap/);
  assert.equal(d.taskWorktrees, undefined);
});

test('without user namespaces doctor says task worktrees are refused and plain workspaces run', { skip }, () => {
  const d = landlockDetails({ ...isolatedEnv('celistra-doctor-').env, CELISTRA_FORCE_NO_USERNS: '1' });
  assert.match(String(d.taskWorktrees), /^refused .*mount namespace.*plain --workspace directories run/);
  assert.equal(d.nestedSandboxes, undefined);
});
