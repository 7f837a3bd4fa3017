import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildPolicy, type PolicyInput } from '../src/policy/policy.js';
import { celistraPaths } from '../src/policy/paths.js';
import { errorCode } from './support/error-code.js';
import { scratchDir } from './support/scratch-dir.js';

/** A home holding several default-denied credentials and Celistra's own dirs. */
function scratch() {
  const root = realpathSync(scratchDir('celistra-allow-read-'));
  const home = join(root, 'home');
  for (const d of ['.ssh', '.kube', '.config/gh', '.config/gcloud', '.claude']) mkdirSync(join(home, d), { recursive: true });
  writeFileSync(join(home, '.claude', '.credentials.json'), '{}');
  const ws = join(root, 'ws');
  const tmp = join(root, 'tmp');
  mkdirSync(ws);
  mkdirSync(tmp);
  const paths = celistraPaths({ HOME: home, XDG_STATE_HOME: join(home, '.local/state'), XDG_CONFIG_HOME: join(home, '.config'), XDG_RUNTIME_DIR: join(root, 'run') });
  for (const own of [paths.stateDir, paths.configDir]) mkdirSync(own, { recursive: true });
  const policy = (over: Partial<PolicyInput>) => buildPolicy({ workspace: ws, tmpDir: tmp, paths, ...over });
  return { home, paths, policy };
}

test('--allow-read lifts exactly the default deny it names; the others stay', () => {
  const s = scratch();
  const p = s.policy({ allowRead: ['~/.kube'] });
  assert.ok(!p.denyRead.includes(join(s.home, '.kube')));
  assert.ok(p.denyRead.includes(join(s.home, '.ssh')));
  assert.ok(p.denyRead.includes(join(s.home, '.config/gh')));
});

test('lifting a directory lifts the default denies inside it, but never Celistra\'s own dirs there', () => {
  const s = scratch();
  const p = s.policy({ allowRead: ['~/.config'] });
  assert.ok(!p.denyRead.includes(join(s.home, '.config/gh')));
  assert.ok(!p.denyRead.includes(join(s.home, '.config/gcloud')));
  assert.ok(p.denyRead.includes(realpathSync(s.paths.configDir)), 'Celistra\'s config dir (under ~/.config here) is still denied');
});

test('a path inside a default deny is refused: a deny is lifted whole', () => {
  const s = scratch();
  assert.equal(errorCode(() => s.policy({ allowRead: ['~/.ssh/known_hosts'] })), 'E_POLICY');
});

test('a path with nothing denied by default is refused, so a typo does not pass silently', () => {
  const s = scratch();
  assert.equal(errorCode(() => s.policy({ allowRead: ['~/.kubee'] })), 'E_POLICY');
});

test('the user\'s own agent logins cannot be lifted, alone or with their directory', () => {
  const s = scratch();
  assert.equal(errorCode(() => s.policy({ allowRead: ['~/.claude/.credentials.json'] })), 'E_POLICY');
  assert.equal(errorCode(() => s.policy({ allowRead: ['~/.claude'] })), 'E_POLICY');
});

test('--allow-read and --deny-read of the same path contradict each other', () => {
  const s = scratch();
  assert.equal(errorCode(() => s.policy({ allowRead: ['~/.kube'], denyRead: ['~/.kube'] })), 'E_USAGE');
});
