import { test } from 'node:test';
import assert from 'node:assert/strict';
import { celistraPaths } from '../src/policy/paths.js';

test('without XDG_RUNTIME_DIR the runtime dir sits in our home, never in the shared temp dir', () => {
  for (const tmp of [undefined, '/tmp', '/var/tmp/x/']) {
    const saved = process.env.TMPDIR;
    if (tmp === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = tmp;
    try {
      assert.equal(celistraPaths({ HOME: '/h' }).runtimeDir, '/h/.celistra-run');
    } finally {
      if (saved === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = saved;
    }
  }
  assert.equal(celistraPaths({ HOME: '/h', XDG_RUNTIME_DIR: '/run/user/7' }).runtimeDir, '/run/user/7/celistra');
});
