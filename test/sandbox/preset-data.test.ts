/**
 * Rules every preset must keep, so that adding one cannot quietly widen the fence:
 * its grants are named directories inside the home (never the home itself), any
 * state directory it points the agent at through an env var is one of those grants, and
 * each entry it keeps read-only lies strictly inside a grant and is created before the run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lstatSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { buildPolicy, expandHome, isWithin } from '../../src/core/policy.js';
import { celistraPaths } from '../../src/core/paths.js';
import { PRESETS } from '../../src/core/presets.js';
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

  test(`every entry the ${preset.name} preset protects lies strictly inside one of its writable dirs`, () => {
    const home = '/home/someone';
    const granted = preset.writableDirs.map((d) => expandHome(d, home));
    for (const entry of preset.protectedEntries) {
      assert.match(entry.path, /^~\/[^/]/, `${entry.path} must be a path inside the home`);
      assert.doesNotMatch(entry.path, /(^|\/)\.\.(\/|$)|\/$/, `${entry.path} must not climb out with .. or end in /`);
      const abs = expandHome(entry.path, home);
      // Outside a grant it is read-only anyway; the grant itself read-only would undo the preset.
      assert.ok(granted.some((g) => isWithin(abs, g) && abs !== g), `${entry.path} is not strictly inside a writable dir of the preset`);
    }
    assert.equal(new Set(preset.protectedEntries.map((e) => e.path)).size, preset.protectedEntries.length, 'no entry listed twice');
  });

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
    for (const entry of preset.protectedEntries) {
      const abs = expandHome(entry.path, iso.home);
      const st = lstatSync(abs);
      assert.ok(policy.readOnlyPaths.includes(abs), `${abs} is kept read-only`);
      if (entry.kind === 'file') {
        assert.ok(st.isFile(), `${abs} created as a file`);
        assert.equal(st.mode & 0o777, 0o600, `${abs} mode`);
        assert.equal(readFileSync(abs, 'utf8'), entry.seed);
      } else {
        assert.ok(st.isDirectory(), `${abs} created as a directory`);
        assert.equal(st.mode & 0o777, 0o700, `${abs} mode`);
        assert.deepEqual(readdirSync(abs), []);
      }
    }
    rmSync(iso.root, { recursive: true, force: true });
  });
}
