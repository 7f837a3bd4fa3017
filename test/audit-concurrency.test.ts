import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { realpathSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openAuditLog } from '../src/audit/index.js';
import { scratchDir } from './support/scratch-dir.js';

const AUDIT_INDEX = fileURLToPath(new URL('../src/audit/index.js', import.meta.url));

/** A separate process writing `count` events in bursts, as `celistra run` or the daemon would. */
function writer(stateDir: string, name: string, count: number): Promise<number | null> {
  const script = `
    import { openAuditLog } from ${JSON.stringify(AUDIT_INDEX)};
    const log = openAuditLog({ stateDir: ${JSON.stringify(stateDir)} });
    for (let i = 0; i < ${count}; i++) {
      log.record({ type: 'attach', agent: ${JSON.stringify(name)}, data: { seq: i } });
      if (i % 25 === 24) await new Promise((r) => setImmediate(r));
    }
    log.close();
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'ignore', 'inherit'] });
  return new Promise((resolve) => child.on('exit', (code) => resolve(code)));
}

test('several processes writing the same log at once keep one linear chain and lose nothing', async () => {
  const stateDir = join(realpathSync(scratchDir('celistra-concurrent-')), 'state');
  openAuditLog({ stateDir }).close();
  const perWriter = 1500;
  const names = ['w1', 'w2', 'w3'];
  const codes = await Promise.all(names.map((n) => writer(stateDir, n, perWriter)));
  assert.deepEqual(codes, [0, 0, 0]);

  const log = openAuditLog({ stateDir });
  const verified = log.verify();
  assert.equal(verified.ok, true, JSON.stringify(verified));
  assert.equal(verified.ok && verified.rows, perWriter * names.length);
  for (const name of names) {
    const seqs = log.query({ agent: name, limit: perWriter * 2 }).map((r) => r.data.seq as number).reverse();
    assert.deepEqual(seqs, Array.from({ length: perWriter }, (_, i) => i), `${name}'s events are all there, in order`);
  }
  assert.deepEqual(log.query({ type: 'loss' }), []);
  log.close();
});
