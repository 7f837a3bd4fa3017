import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { celistraPaths } from '../src/core/paths.js';

test('without XDG_RUNTIME_DIR the runtime dir sits in the temp dir Node itself would name', () => {
  const saved = { TMPDIR: process.env.TMPDIR, TMP: process.env.TMP, TEMP: process.env.TEMP };
  const uid = process.getuid?.() ?? 0;
  const cases: Record<string, string | undefined>[] = [
    {},
    { TMPDIR: '/var/tmp/x/' },
    { TMPDIR: '/srv/t' },
    { TMPDIR: '', TMP: '/tmp2/' },
    { TEMP: '/t3' },
    { TMPDIR: '/' },
  ];
  try {
    for (const c of cases) {
      for (const k of ['TMPDIR', 'TMP', 'TEMP'] as const) {
        if (c[k] === undefined) delete process.env[k];
        else process.env[k] = c[k];
      }
      assert.equal(celistraPaths({ HOME: '/h' }).runtimeDir, join(tmpdir(), `celistra-${uid}`), JSON.stringify(c));
    }
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
  assert.equal(celistraPaths({ HOME: '/h', XDG_RUNTIME_DIR: '/run/user/7' }).runtimeDir, '/run/user/7/celistra');
});
