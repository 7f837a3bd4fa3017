// The `celistra run` fast path starts its bundle through V8's code cache (src/cli/run-loader.ts).
// The cache is code V8 will run, so the loader must take it only when this user alone
// could have written it, and must survive a damaged one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCelistra } from './support/celistra-cli.js';
import { isolatedEnv } from './support/isolated-env.js';

function scratch() {
  const { root, env } = isolatedEnv('celistra-code-cache-');
  mkdirSync(join(root, 'ws'));
  const cacheDir = join(env.XDG_STATE_HOME!, 'celistra', 'code-cache');
  const caches = () => {
    try {
      return readdirSync(cacheDir).filter((n) => n.endsWith('.v8'));
    } catch {
      return [];
    }
  };
  const run = (backend: string) => runCelistra(['run', '--backend', backend, '--workspace', join(root, 'ws'), '--', 'sh', '-c', 'echo fenced-output'], { env });
  return { root, env, cacheDir, caches, run, done: () => rmSync(root, { recursive: true, force: true }) };
}

for (const backend of ['none', 'auto']) {
  test(`code cache (--backend ${backend}): written once, kept while valid, replaced when not trusted or damaged`, () => {
    const s = scratch();
    try {
      const first = s.run(backend);
      assert.equal(first.status, 0, first.stderr);
      assert.equal(first.stdout.toString(), 'fenced-output\n');
      const [name] = s.caches();
      assert.ok(name, 'the first run leaves a cache');
      const path = join(s.cacheDir, name!);
      const made = statSync(path);
      assert.equal(made.mode & 0o777, 0o600);

      // A valid cache of our own is used as it is: not rewritten.
      const second = s.run(backend);
      assert.equal(second.status, 0, second.stderr);
      const kept = statSync(path);
      assert.equal(kept.ino, made.ino, 'a valid cache is not rewritten');
      assert.equal(kept.mtimeMs, made.mtimeMs);

      // Writable by others: not trusted, so the run compiles and writes its own.
      chmodSync(path, 0o666);
      const third = s.run(backend);
      assert.equal(third.status, 0, third.stderr);
      assert.equal(third.stdout.toString(), 'fenced-output\n');
      const replaced = statSync(path);
      assert.notEqual(replaced.ino, made.ino, 'a cache others could write is replaced');
      assert.equal(replaced.mode & 0o777, 0o600);

      // Damaged (V8 rejects it): the run still works and the cache is rewritten.
      writeFileSync(path, Buffer.alloc(4096, 0x5a), { mode: 0o600 });
      const fourth = s.run(backend);
      assert.equal(fourth.status, 0, fourth.stderr);
      assert.equal(fourth.stdout.toString(), 'fenced-output\n');
      assert.notDeepEqual(readFileSync(path).subarray(0, 64), Buffer.alloc(64, 0x5a), 'a rejected cache is rewritten');
      assert.deepEqual(s.caches(), [name]);
    } finally {
      s.done();
    }
  });
}

test('code cache: a run Celistra refuses leaves none', () => {
  const s = scratch();
  try {
    const refused = runCelistra(['run', '--workspace', join(s.root, 'missing'), '--', 'true'], { env: s.env });
    assert.equal(refused.status, 65, refused.stderr); // E_WORKSPACE
    assert.deepEqual(s.caches(), []);
  } finally {
    s.done();
  }
});
