import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureProtectedEntry } from '../src/policy/presets/protected-entries.js';
import { PRESETS, seedText, type ProtectedEntry } from '../src/policy/presets/catalog.js';
import { scratchDir } from './support/scratch-dir.js';

const ENTRY: ProtectedEntry = { path: 'config.toml', kind: 'file', seed: 'new seed\n', formerSeeds: [''] };

function stateDir(): string {
  return realpathSync(scratchDir('celistra-seed-'));
}

test('a protected file still holding an earlier seed is brought up to the current seed', () => {
  const dir = stateDir();
  writeFileSync(join(dir, 'config.toml'), '');
  ensureProtectedEntry(ENTRY, join(dir, 'config.toml'), '/work/repo-task');
  assert.equal(readFileSync(join(dir, 'config.toml'), 'utf8'), 'new seed\n');
});

test('a protected file the user edited is left as it is', () => {
  const dir = stateDir();
  writeFileSync(join(dir, 'config.toml'), 'model = "mine"\n');
  ensureProtectedEntry(ENTRY, join(dir, 'config.toml'), '/work/repo-task');
  assert.equal(readFileSync(join(dir, 'config.toml'), 'utf8'), 'model = "mine"\n');
});

test('the upgrade never writes through a link an agent left under its temporary name', () => {
  const dir = stateDir();
  const outside = join(stateDir(), 'victim');
  writeFileSync(outside, 'untouched\n');
  writeFileSync(join(dir, 'config.toml'), '');
  symlinkSync(outside, join(dir, `.config.toml.celistra-seed-${process.pid}`));
  ensureProtectedEntry(ENTRY, join(dir, 'config.toml'), '/work/repo-task');
  assert.equal(readFileSync(outside, 'utf8'), 'untouched\n');
  assert.equal(readFileSync(join(dir, 'config.toml'), 'utf8'), 'new seed\n');
});

const codexSeed = (workspace: string): string => {
  const config = PRESETS.codex!.stateDir!.protectedEntries.find((e) => e.path === 'config.toml');
  assert.ok(config && config.kind === 'file');
  return seedText(config.seed, workspace);
};

test("the codex preset turns Codex's background app-server off, since the fence refuses the unix socket it needs", () => {
  assert.match(codexSeed('/work/repo-task'), /^\[features\]\ndaemon_auto_start = false$/m);
});

test("the codex preset turns Codex's own command sandbox off, since it cannot start inside the fence", () => {
  const seed = codexSeed('/work/repo-task');
  assert.match(seed, /^sandbox_mode = "danger-full-access"$/m);
  // Top-level keys must come before the first [table], or TOML puts them in that table.
  assert.ok(seed.indexOf('sandbox_mode') < seed.indexOf('['));
});

test("the codex preset trusts the agent's own workspace, and only it, since the TUI cannot save its trust answer", () => {
  assert.match(codexSeed('/work/repo-task'), /^\[projects\."\/work\/repo-task"\]\ntrust_level = "trusted"$/m);
  // A path TOML would need escaped stays one quoted key.
  assert.match(codexSeed('/work/a "q" b'), /^\[projects\."\/work\/a \\"q\\" b"\]$/m);
  assert.equal(codexSeed('/work/repo-task').match(/^\[projects\./gm)?.length, 1);
});

test('a codex config.toml still holding an earlier seed is brought up to this one', () => {
  const config = PRESETS.codex!.stateDir!.protectedEntries.find((e) => e.path === 'config.toml');
  assert.ok(config && config.kind === 'file');
  assert.deepEqual(config.formerSeeds, ['', '[features]\ndaemon_auto_start = false\n']);
  const dir = stateDir();
  writeFileSync(join(dir, 'config.toml'), '[features]\ndaemon_auto_start = false\n');
  ensureProtectedEntry(config, join(dir, 'config.toml'), '/work/repo-task');
  assert.equal(readFileSync(join(dir, 'config.toml'), 'utf8'), codexSeed('/work/repo-task'));
});
