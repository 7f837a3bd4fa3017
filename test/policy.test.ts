import { test } from 'node:test';
import { errorCode } from './support/error-code.js';
import assert from 'node:assert/strict';
import { lstatSync, mkdirSync, readdirSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildPolicy } from '../src/policy/policy.js';
import { agentStateDirPath } from '../src/policy/presets/state-dir.js';
import { seedText, PRESETS } from '../src/policy/presets/catalog.js';
import { celistraPaths } from '../src/policy/paths.js';
import { scratchDir } from './support/scratch-dir.js';

function scratch() {
  const root = realpathSync(scratchDir('celistra-policy-'));
  const home = join(root, 'home');
  mkdirSync(join(home, '.ssh'), { recursive: true });
  const ws = join(root, 'ws');
  mkdirSync(ws);
  const tmp = join(root, 'tmp');
  mkdirSync(tmp);
  const paths = celistraPaths({ HOME: home, XDG_STATE_HOME: join(home, '.local/state'), XDG_CONFIG_HOME: join(home, '.config'), XDG_RUNTIME_DIR: join(root, 'run') });
  return { root, home, ws, tmp, paths };
}


test('a policy realpaths the workspace and exports the private tmp dir as TMPDIR', () => {
  const s = scratch();
  const link = join(s.root, 'ws-link');
  symlinkSync(s.ws, link);
  const p = buildPolicy({ workspace: link, tmpDir: s.tmp, paths: s.paths });
  assert.equal(p.workspace, s.ws);
  assert.equal(p.env.TMPDIR, s.tmp);
  assert.equal(p.network, 'on');
  assert.deepEqual(JSON.parse(JSON.stringify(p)), p);
});

test('existing secret directories are read-denied by default', () => {
  const s = scratch();
  const p = buildPolicy({ workspace: s.ws, tmpDir: s.tmp, paths: s.paths });
  assert.ok(p.denyRead.includes(join(s.home, '.ssh')));
});

test('the workspace may not be /, the home directory, or hold Celistra state', () => {
  const s = scratch();
  assert.equal(errorCode(() => buildPolicy({ workspace: '/', tmpDir: s.tmp, paths: s.paths })), 'E_WORKSPACE');
  assert.equal(errorCode(() => buildPolicy({ workspace: s.home, tmpDir: s.tmp, paths: s.paths })), 'E_WORKSPACE');
  mkdirSync(s.paths.stateDir, { recursive: true });
  assert.equal(errorCode(() => buildPolicy({ workspace: join(s.home, '.local'), tmpDir: s.tmp, paths: s.paths })), 'E_WORKSPACE');
});

test('a missing workspace or a file as workspace is refused', () => {
  const s = scratch();
  assert.equal(errorCode(() => buildPolicy({ workspace: join(s.root, 'nope'), tmpDir: s.tmp, paths: s.paths })), 'E_WORKSPACE');
  const f = join(s.root, 'file');
  writeFileSync(f, '');
  assert.equal(errorCode(() => buildPolicy({ workspace: f, tmpDir: s.tmp, paths: s.paths })), 'E_WORKSPACE');
});

/** The claude preset's state dir for the scratch workspace. */
function claudeDir(s: { home: string; ws: string }): string {
  return agentStateDirPath(join(s.home, '.claude-celistra'), s.ws);
}

test('the claude preset makes the agent\'s own dir under ~/.claude-celistra writable and points CLAUDE_CONFIG_DIR at it', () => {
  const s = scratch();
  const p = buildPolicy({ workspace: s.ws, tmpDir: s.tmp, paths: s.paths, preset: 'claude' });
  assert.match(claudeDir(s), /\/\.claude-celistra\/agents\/ws-[0-9a-f]{16}$/);
  assert.ok(p.writableRoots.includes(claudeDir(s)));
  assert.equal(p.env.CLAUDE_CONFIG_DIR, claudeDir(s));
  assert.ok(!p.writableRoots.includes(join(s.home, '.claude-celistra')), 'the shared base is not writable');
});

test('an unknown preset is a policy error', () => {
  const s = scratch();
  assert.equal(errorCode(() => buildPolicy({ workspace: s.ws, tmpDir: s.tmp, paths: s.paths, preset: 'nope' })), 'E_POLICY');
});

test('a writable root inside a read-denied path is refused', () => {
  const s = scratch();
  assert.equal(errorCode(() => buildPolicy({ workspace: s.ws, tmpDir: s.tmp, paths: s.paths, allowWrite: [join(s.home, '.ssh')] })), 'E_POLICY');
});

test('a read-denied path inside a writable root is refused, existing or not', () => {
  const s = scratch();
  mkdirSync(join(s.ws, 'conf'));
  writeFileSync(join(s.ws, 'conf', 'secret'), 'TOPSECRET');
  assert.equal(errorCode(() => buildPolicy({ workspace: s.ws, tmpDir: s.tmp, paths: s.paths, denyRead: [join(s.ws, 'conf', 'secret')] })), 'E_POLICY');
  assert.equal(errorCode(() => buildPolicy({ workspace: s.ws, tmpDir: s.tmp, paths: s.paths, denyRead: [join(s.ws, 'moved-away', 'secret')] })), 'E_POLICY');
});

test('a default secret inside an extra writable root is refused rather than left unmasked', () => {
  const s = scratch();
  mkdirSync(join(s.home, '.config', 'gh'), { recursive: true });
  assert.equal(errorCode(() => buildPolicy({ workspace: s.ws, tmpDir: s.tmp, paths: s.paths, allowWrite: [join(s.home, '.config')] })), 'E_POLICY');
});

test('a preset keeps the protected entries already in the agent\'s dir as they are and lists them read-only', () => {
  const s = scratch();
  const dir = claudeDir(s);
  // The user edits the dir Celistra made (one it did not make is moved aside: presets-provenance.test.ts).
  buildPolicy({ workspace: s.ws, tmpDir: s.tmp, paths: s.paths, preset: 'claude' });
  writeFileSync(join(dir, 'settings.json'), '{"model":"mine"}\n');
  writeFileSync(join(dir, 'hooks', 'pre.sh'), 'echo mine\n');
  const p = buildPolicy({ workspace: s.ws, tmpDir: s.tmp, paths: s.paths, preset: 'claude' });
  assert.equal(readFileSync(join(dir, 'settings.json'), 'utf8'), '{"model":"mine"}\n', 'not overwritten by the seed');
  assert.deepEqual(readdirSync(join(dir, 'hooks')), ['pre.sh']);
  assert.ok(p.readOnlyPaths.includes(join(dir, 'settings.json')));
  assert.ok(p.readOnlyPaths.includes(join(dir, 'hooks')));
  assert.ok(p.writableRoots.includes(dir), 'the state dir itself stays writable');
});

test('the agent\'s dir is realpath\'d through a symlinked state base', () => {
  const s = scratch();
  const real = join(s.root, 'dotfiles', 'claude');
  mkdirSync(real, { recursive: true });
  symlinkSync(real, join(s.home, '.claude-celistra'));
  const p = buildPolicy({ workspace: s.ws, tmpDir: s.tmp, paths: s.paths, preset: 'claude' });
  const dir = agentStateDirPath(real, s.ws);
  assert.ok(p.writableRoots.includes(dir));
  assert.ok(p.readOnlyPaths.includes(join(dir, 'settings.json')));
  assert.equal(readFileSync(join(dir, 'settings.json'), 'utf8'), claudeSettingsSeed());
});

function claudeSettingsSeed(): string {
  const entry = PRESETS.claude!.stateDir!.protectedEntries.find((e) => e.path === 'settings.json');
  return entry?.kind === 'file' ? seedText(entry.seed, '/') : '';
}

test('a protected entry that is a symlink is refused: the agent could replace the link', () => {
  const s = scratch();
  buildPolicy({ workspace: s.ws, tmpDir: s.tmp, paths: s.paths, preset: 'claude' });
  writeFileSync(join(s.root, 'settings.json'), '{}\n');
  rmSync(join(claudeDir(s), 'settings.json'));
  symlinkSync(join(s.root, 'settings.json'), join(claudeDir(s), 'settings.json'));
  assert.equal(errorCode(() => buildPolicy({ workspace: s.ws, tmpDir: s.tmp, paths: s.paths, preset: 'claude' })), 'E_POLICY');
  assert.ok(lstatSync(join(claudeDir(s), 'settings.json')).isSymbolicLink(), 'left as the user had it');
});

test('a protected entry of the wrong kind is refused', () => {
  const s = scratch();
  const codexToml = join(agentStateDirPath(join(s.home, '.codex-celistra'), s.ws), 'config.toml');
  buildPolicy({ workspace: s.ws, tmpDir: s.tmp, paths: s.paths, preset: 'codex' });
  rmSync(codexToml);
  mkdirSync(codexToml);
  assert.equal(errorCode(() => buildPolicy({ workspace: s.ws, tmpDir: s.tmp, paths: s.paths, preset: 'codex' })), 'E_POLICY');
  buildPolicy({ workspace: s.ws, tmpDir: s.tmp, paths: s.paths, preset: 'claude' });
  rmSync(join(claudeDir(s), 'hooks'), { recursive: true });
  writeFileSync(join(claudeDir(s), 'hooks'), 'not a dir\n');
  assert.equal(errorCode(() => buildPolicy({ workspace: s.ws, tmpDir: s.tmp, paths: s.paths, preset: 'claude' })), 'E_POLICY');
});

test('agent presets never grant the user\'s own agent config dirs, which the unfenced agent reads', () => {
  const s = scratch();
  for (const preset of ['claude', 'codex']) {
    const p = buildPolicy({ workspace: s.ws, tmpDir: s.tmp, paths: s.paths, preset });
    for (const own of ['.claude', '.codex']) {
      assert.ok(!p.writableRoots.some((w) => w === join(s.home, own) || w.startsWith(join(s.home, own) + '/')), `${preset} must not grant ~/${own}`);
    }
  }
});
