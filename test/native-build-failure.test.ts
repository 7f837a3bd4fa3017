/**
 * The package's install script (scripts/native-build.js) on a Linux machine without a
 * C toolchain: the install fails, and says what to install. It is run as npm runs it
 * (`npm run-script install`, which puts npm's node-gyp on PATH) in a copy of the native
 * sources, with make and the C compilers hidden from PATH (scripts/without-tools.js).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { scratchDir } from './support/scratch-dir.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TOOLCHAIN = ['make', 'cc', 'c++', 'gcc', 'g++', 'musl-gcc'];

test('without a C toolchain the install fails and names what to install', { skip: process.platform === 'linux' ? false : 'the native build is Linux-only' }, () => {
  const pkg = scratchDir('celistra-native-build-');
  writeFileSync(join(pkg, 'package.json'), JSON.stringify({ name: 'celistra-native-build-check', version: '0.0.0', type: 'module', scripts: { install: 'node scripts/native-build.js' } }));
  mkdirSync(join(pkg, 'scripts'));
  cpSync(join(ROOT, 'scripts', 'native-build.js'), join(pkg, 'scripts', 'native-build.js'));
  mkdirSync(join(pkg, 'native'));
  for (const entry of ['binding.gyp', 'build-helper.sh', 'src']) cpSync(join(ROOT, 'native', entry), join(pkg, 'native', entry), { recursive: true });
  mkdirSync(join(pkg, 'node_modules'));
  symlinkSync(join(ROOT, 'node_modules', 'node-addon-api'), join(pkg, 'node_modules', 'node-addon-api'));

  const r = spawnSync(process.execPath, [join(ROOT, 'scripts', 'without-tools.js'), TOOLCHAIN.join(','), '--', 'npm', 'run-script', 'install'], { cwd: pkg, encoding: 'utf8', timeout: 120_000 });
  const output = `${r.stdout}\n${r.stderr}`;
  assert.notEqual(r.status, 0, `the install succeeded without a toolchain:\n${output}`);
  assert.match(output, /celistra: the native addon and exec helper \(Landlock backend\) could not be built/);
  assert.match(output, /apt-get install -y build-essential python3/);
  assert.match(output, /`make` failed|not found: make|make: not found|ENOENT/, `the build did not fail for want of make:\n${output}`);
  assert.equal(existsSync(join(pkg, 'native', 'build', 'Release', 'celistra_native.node')), false, 'no addon was built');
});
