/**
 * Rules every preset must keep, so that adding one cannot quietly widen the fence:
 * its grants are named directories inside the home (never the home itself), any
 * state directory it points the agent at through an env var is one of those grants (or
 * the agent's own dir under its state base, and nothing else there), and each entry it
 * keeps read-only lies inside the agent's state dir and is created before the run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lstatSync, mkdirSync, readFileSync, readdirSync, realpathSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { buildPolicy, DEFAULT_DENY_READ, expandHome, isWithin } from '../../src/policy/policy.js';
import { celistraPaths } from '../../src/policy/paths.js';
import { PRESETS, seedText } from '../../src/policy/presets/catalog.js';
import { agentStateDirPath } from '../../src/policy/presets/state-dir.js';
import { isolatedEnv } from '../support/isolated-env.js';

for (const preset of Object.values(PRESETS)) {
  test(`the ${preset.name} preset grants only named directories inside the home`, () => {
    for (const dir of [...preset.writableDirs, ...preset.writableFiles]) {
      assert.match(dir, /^~\/[^/]/, `${dir} must be a path inside the home`);
      assert.doesNotMatch(dir, /(^|\/)\.\.(\/|$)/, `${dir} must not climb out with ..`);
    }
  });

  test(`every home path the ${preset.name} preset exports lies inside one of its writable dirs`, () => {
    const home = '/home/someone';
    const granted = preset.writableDirs.map((d) => expandHome(d, home));
    for (const [name, value] of Object.entries(preset.env)) {
      if (!value.startsWith('~/')) continue;
      const abs = expandHome(value, home);
      assert.ok(granted.some((g) => isWithin(abs, g)), `${name}=${value} points the agent at a directory the preset does not make writable`);
    }
  });

  test(`every entry the ${preset.name} preset protects is a plain path inside the agent's state dir`, () => {
    const entries = preset.stateDir?.protectedEntries ?? [];
    for (const entry of entries) {
      // Relative to the agent's own state dir: outside it an entry is read-only anyway, and
      // the dir itself read-only would undo the preset.
      assert.match(entry.path, /^[^/~]/, `${entry.path} must be relative to the state dir`);
      assert.doesNotMatch(entry.path, /(^|\/)\.\.?(\/|$)|\/$/, `${entry.path} must not climb out with .. or end in /`);
    }
    assert.equal(new Set(entries.map((e) => e.path)).size, entries.length, 'no entry listed twice');
  });

  if (preset.stateDir) {
    const state = preset.stateDir;
    test(`the ${preset.name} preset's state base is a named directory inside the home, and its env var is set only from it`, () => {
      assert.match(state.base, /^~\/[^/]/);
      assert.doesNotMatch(state.base, /(^|\/)\.\.(\/|$)/);
      assert.ok(!(state.envVar in preset.env), `${state.envVar} comes from the per-agent state dir, not from the static env`);
    });

    test(`the ${preset.name} preset's login comes from the user's own read-denied file, never from a base`, () => {
      const home = '/home/someone';
      const bases = Object.values(PRESETS).flatMap((p) => (p.stateDir ? [expandHome(p.stateDir.base, home)] : []));
      for (const login of state.logins) {
        assert.match(login.name, /^[^/]+$/, `${login.name} must be a file name in the agent's dir`);
        assert.match(login.source, /^~\/[^/]/, `${login.source} must be a path inside the home`);
        // In DEFAULT_DENY_READ, no writable root may hold it (policy.ts refuses a mask inside a writable root).
        assert.ok(DEFAULT_DENY_READ.includes(login.source), `${login.source} must be read-denied by default`);
        const abs = expandHome(login.source, home);
        assert.ok(!bases.some((b) => isWithin(abs, b)), `${login.source} must not lie in a base fenced agents could once write`);
      }
    });
  }

  test(`building a policy with the ${preset.name} preset creates its dirs 0700 and makes them writable roots`, () => {
    const iso = isolatedEnv(`celistra-preset-data-${preset.name}-`);
    const ws = join(iso.root, 'ws');
    const tmp = join(iso.root, 'tmp');
    mkdirSync(ws);
    mkdirSync(tmp);
    const policy = buildPolicy({ workspace: ws, tmpDir: tmp, paths: celistraPaths(iso.env), preset: preset.name });
    assert.equal(policy.preset, preset.name);
    for (const dir of preset.writableDirs) {
      const abs = expandHome(dir, iso.home);
      assert.equal(statSync(abs).mode & 0o777, 0o700, `${abs} mode`);
      assert.ok(policy.writableRoots.includes(abs), `${abs} is a writable root`);
    }
    assert.ok(!policy.writableRoots.includes(iso.home), 'the home itself is never writable');
    for (const [name, value] of Object.entries(preset.env)) assert.equal(policy.env[name], expandHome(value, iso.home));
    if (preset.stateDir) {
      const base = expandHome(preset.stateDir.base, iso.home);
      const own = agentStateDirPath(base, realpathSync(ws));
      assert.equal(policy.env[preset.stateDir.envVar], own);
      assert.ok(policy.writableRoots.includes(own), `${own} is a writable root`);
      assert.ok(!policy.writableRoots.some((w) => isWithin(base, w) || (isWithin(w, base) && w !== own)), 'nothing else of the base is writable');
      for (const d of [base, join(base, 'agents'), own]) assert.equal(statSync(d).mode & 0o777, 0o700, `${d} mode`);
      for (const entry of preset.stateDir.protectedEntries) {
        const abs = join(own, entry.path);
        const st = lstatSync(abs);
        assert.ok(policy.readOnlyPaths.includes(abs), `${abs} is kept read-only`);
        if (entry.kind === 'file') {
          assert.ok(st.isFile(), `${abs} created as a file`);
          assert.equal(st.mode & 0o777, 0o600, `${abs} mode`);
          assert.equal(readFileSync(abs, 'utf8'), seedText(entry.seed, realpathSync(ws)));
        } else {
          assert.ok(st.isDirectory(), `${abs} created as a directory`);
          assert.equal(st.mode & 0o777, 0o700, `${abs} mode`);
          assert.deepEqual(readdirSync(abs), []);
        }
      }
    }
    rmSync(iso.root, { recursive: true, force: true });
  });
}
