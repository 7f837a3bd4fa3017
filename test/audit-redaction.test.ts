import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { openAuditLog, redactEnv } from '../src/audit/index.js';
import { scratchDir } from './support/scratch-dir.js';

function scratchStateDir(): string {
  return join(realpathSync(scratchDir('celistra-redact-')), 'state');
}

test('redactEnv keeps the names of set variables, sorted, and no values', () => {
  const names = redactEnv({ ZED: 'z-value', ANTHROPIC_API_KEY: 'sk-ant-secret', UNSET: undefined, PATH: '/usr/bin' });
  assert.deepEqual(names, ['ANTHROPIC_API_KEY', 'PATH', 'ZED']);
  assert.ok(!names.some((n) => n.includes('secret') || n.includes('value') || n.includes('/usr/bin')));
});

test('no environment value reaches the database file, whether or not the caller used redactEnv', () => {
  const stateDir = scratchStateDir();
  const secret = `sk-test-${randomBytes(12).toString('hex')}`;
  const env = { ANTHROPIC_API_KEY: secret, HOME: '/home/someone' };
  const log = openAuditLog({ stateDir });
  log.record({ type: 'spawn', agent: 'careful', data: { command: ['claude'], env: redactEnv(env) } });
  // A careless caller hands over the environment itself: the store keeps only the names.
  log.record({ type: 'spawn', agent: 'careless', data: { command: ['claude'], env } });
  assert.equal(log.flush(), true);
  for (const agent of ['careful', 'careless']) {
    const [row] = log.query({ agent });
    assert.deepEqual(row!.data.env, ['ANTHROPIC_API_KEY', 'HOME']);
  }
  const path = log.path;
  const walBeforeClose = existsSync(`${path}-wal`) ? readFileSync(`${path}-wal`) : Buffer.alloc(0);
  log.close();
  for (const bytes of [readFileSync(path), walBeforeClose]) {
    assert.equal(bytes.includes(secret), false, 'the secret value is nowhere in the file');
    assert.equal(bytes.includes('/home/someone'), false);
  }
  assert.ok(readFileSync(path).includes('ANTHROPIC_API_KEY'), 'the name is recorded (the check above is looking in the right file)');
});
