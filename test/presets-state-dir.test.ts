/**
 * Each fenced agent gets a state dir of its own under the preset's base, keyed by its
 * workspace; the base (the user's login, every other agent's dir) is never writable.
 */
import { test } from 'node:test';
import { errorCode } from './support/error-code.js';
import assert from 'node:assert/strict';
import { lstatSync, mkdirSync, readFileSync, readlinkSync, realpathSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildPolicy, isWithin } from '../src/policy/policy.js';
import { agentStateDirPath, agentStateKey } from '../src/policy/presets/state-dir.js';
import { celistraPaths } from '../src/policy/paths.js';
import { scratchDir } from './support/scratch-dir.js';

function scratch() {
  const root = realpathSync(scratchDir('celistra-state-dir-'));
  const home = join(root, 'home');
  mkdirSync(home);
  const tmp = join(root, 'tmp');
  mkdirSync(tmp);
  const paths = celistraPaths({ HOME: home, XDG_STATE_HOME: join(home, '.local/state'), XDG_CONFIG_HOME: join(home, '.config'), XDG_RUNTIME_DIR: join(root, 'run') });
  const ws = (name: string) => {
    const p = join(root, name);
    mkdirSync(p, { recursive: true });
    return p;
  };
  return { root, home, tmp, paths, ws, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}


test('the state key names the workspace and hashes its full path', () => {
  assert.match(agentStateKey('/home/u/code/my app'), /^my_app-[0-9a-f]{16}$/);
  assert.notEqual(agentStateKey('/a/proj'), agentStateKey('/b/proj'));
  assert.equal(agentStateKey('/a/proj'), agentStateKey('/a/proj'));
});

for (const preset of ['claude', 'codex'] as const) {
  const envVar = preset === 'claude' ? 'CLAUDE_CONFIG_DIR' : 'CODEX_HOME';
  const base = preset === 'claude' ? '.claude-celistra' : '.codex-celistra';
  const login = preset === 'claude' ? '.credentials.json' : 'auth.json';
  const userDir = preset === 'claude' ? '.claude' : '.codex';

  test(`two workspaces with the ${preset} preset get two state dirs, and neither can write the other's or the base`, () => {
    const s = scratch();
    try {
      const a = buildPolicy({ workspace: s.ws('wt-a'), tmpDir: s.tmp, paths: s.paths, preset });
      const b = buildPolicy({ workspace: s.ws('other/wt-a'), tmpDir: s.tmp, paths: s.paths, preset });
      assert.notEqual(a.env[envVar], b.env[envVar]);
      const baseDir = join(s.home, base);
      for (const [p, other] of [[a, b], [b, a]] as const) {
        const writable = [p.workspace, ...p.writableRoots];
        assert.ok(!writable.some((w) => isWithin(other.env[envVar]!, w)), 'the other agent\'s dir is not writable');
        assert.ok(!writable.some((w) => isWithin(baseDir, w) || isWithin(join(baseDir, 'agents'), w)), 'the base and its agents/ dir are not writable');
      }
      const again = buildPolicy({ workspace: s.ws('wt-a'), tmpDir: s.tmp, paths: s.paths, preset });
      assert.equal(again.env[envVar], a.env[envVar], 'the same workspace finds its state again');
    } finally {
      s.cleanup();
    }
  });

  test(`the user's own ${preset} login is copied into the agent's dir, and a newer copy there is kept`, () => {
    const s = scratch();
    try {
      const own = join(s.home, userDir, login);
      mkdirSync(join(s.home, userDir), { mode: 0o700 });
      writeFileSync(own, 'LOGIN-1');
      utimesSync(own, new Date('2024-01-01'), new Date('2024-01-01'));
      const ws = s.ws('wt-a');
      const dir = buildPolicy({ workspace: ws, tmpDir: s.tmp, paths: s.paths, preset }).env[envVar]!;
      assert.equal(readFileSync(join(dir, login), 'utf8'), 'LOGIN-1');
      assert.equal(statSync(join(dir, login)).mode & 0o777, 0o600);
      // The agent refreshed its token: its copy is newer than the user's and survives a restart.
      writeFileSync(join(dir, login), 'REFRESHED');
      buildPolicy({ workspace: ws, tmpDir: s.tmp, paths: s.paths, preset });
      assert.equal(readFileSync(join(dir, login), 'utf8'), 'REFRESHED');
      // The user logged in again: newer than the agent's copy, so it replaces it.
      writeFileSync(own, 'LOGIN-2');
      utimesSync(own, new Date(Date.now() + 60_000), new Date(Date.now() + 60_000));
      buildPolicy({ workspace: ws, tmpDir: s.tmp, paths: s.paths, preset });
      assert.equal(readFileSync(join(dir, login), 'utf8'), 'LOGIN-2');
    } finally {
      s.cleanup();
    }
  });
}

test('a symlink the agent left in place of its login copy is replaced, not written through', () => {
  const s = scratch();
  try {
    mkdirSync(join(s.home, '.claude'), { mode: 0o700 });
    writeFileSync(join(s.home, '.claude', '.credentials.json'), 'LOGIN');
    const ws = s.ws('wt-a');
    const dir = buildPolicy({ workspace: ws, tmpDir: s.tmp, paths: s.paths, preset: 'claude' }).env.CLAUDE_CONFIG_DIR!;
    const victim = join(s.home, '.bashrc');
    writeFileSync(victim, 'mine\n');
    rmSync(join(dir, '.credentials.json'));
    symlinkSync(victim, join(dir, '.credentials.json'));
    utimesSync(join(s.home, '.claude', '.credentials.json'), new Date(Date.now() + 60_000), new Date(Date.now() + 60_000));
    buildPolicy({ workspace: ws, tmpDir: s.tmp, paths: s.paths, preset: 'claude' });
    assert.equal(readFileSync(victim, 'utf8'), 'mine\n', 'the link target is untouched');
    assert.ok(lstatSync(join(dir, '.credentials.json')).isFile());
    assert.equal(readFileSync(join(dir, '.credentials.json'), 'utf8'), 'LOGIN');
  } finally {
    s.cleanup();
  }
});

test('an agents/ dir or agent dir that is a symlink is refused: the grant would land elsewhere', () => {
  const s = scratch();
  try {
    const elsewhere = join(s.home, '.config', 'elsewhere');
    mkdirSync(elsewhere, { recursive: true });
    mkdirSync(join(s.home, '.claude-celistra'));
    symlinkSync(elsewhere, join(s.home, '.claude-celistra', 'agents'));
    assert.equal(errorCode(() => buildPolicy({ workspace: s.ws('wt-a'), tmpDir: s.tmp, paths: s.paths, preset: 'claude' })), 'E_POLICY');
    assert.equal(readlinkSync(join(s.home, '.claude-celistra', 'agents')), elsewhere);
  } finally {
    s.cleanup();
  }
});

test('a writable root holding or inside a preset base is refused, with or without a preset', () => {
  const s = scratch();
  try {
    const ws = s.ws('wt-a');
    const other = agentStateDirPath(join(s.home, '.claude-celistra'), join(s.root, 'wt-b'));
    mkdirSync(other, { recursive: true });
    for (const preset of [undefined, 'claude', 'codex']) {
      assert.equal(errorCode(() => buildPolicy({ workspace: ws, tmpDir: s.tmp, paths: s.paths, preset, allowWrite: [other] })), 'E_POLICY', `another agent's dir, preset ${preset}`);
      assert.equal(errorCode(() => buildPolicy({ workspace: ws, tmpDir: s.tmp, paths: s.paths, preset, allowWrite: [join(s.home, '.claude-celistra')] })), 'E_POLICY', `the base, preset ${preset}`);
    }
    assert.equal(errorCode(() => buildPolicy({ workspace: join(s.home, '.claude-celistra', 'agents'), tmpDir: s.tmp, paths: s.paths })), 'E_POLICY', 'as the workspace');
  } finally {
    s.cleanup();
  }
});
