import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AgentStore, StoreWrites } from '../src/daemon/agent-store.js';
import type { AgentRecord } from '../src/daemon/agent-spec.js';
import { Supervisor } from '../src/daemon/supervisor.js';
import { cleanup, isAlive, makeSandbox, waitFor } from './daemon-harness.js';

/** The agent store with the disk full: every write fails as SQLite fails then, until `full` is false. */
class FullDiskStore extends AgentStore {
  full = false;
  private check(): void {
    if (this.full) throw Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
  }
  override update(record: AgentRecord): void {
    this.check();
    super.update(record);
  }
  override saveOutput(name: string, output: Buffer): void {
    this.check();
    super.saveOutput(name, output);
  }
  override delete(name: string): void {
    this.check();
    super.delete(name);
  }
}

test('with the disk full, a killed agent is stopped and removable, and the store catches up once space returns', { timeout: 60_000 }, async () => {
  const sb = makeSandbox();
  const store = new FullDiskStore(sb.paths.stateDir);
  const sup = new Supervisor({ paths: sb.paths, store, scrollbackBytes: 65536, baseEnv: { PATH: process.env.PATH ?? '/usr/bin:/bin' } });
  try {
    const a = await sup.spawn({ name: 'filler', argv: ['sh', '-c', 'echo before-full; exec sleep 300'], workspace: sb.workspace, backend: 'auto' });
    const b = await sup.spawn({ name: 'other', argv: ['sleep', '300'], workspace: sb.workspace, backend: 'auto' });
    await waitFor('output', async () => ((await sup.logs('filler')).includes('before-full') ? true : undefined));
    store.full = true;

    sup.kill('filler', 'TERM');
    await waitFor('filler stopped', () => (sup.describe('filler').state === 'stopped' ? true : undefined), 20_000);
    assert.equal(isAlive(a.pid!), false, 'the kill signalled the agent');
    await waitFor('its holder gone', () => (isAlive(a.holderPid!) ? undefined : true), 10_000);
    assert.match((await sup.logs('filler')).toString(), /before-full/, 'its output is kept in memory');

    sup.kill('other', 'KILL');
    await waitFor('other stopped', () => (sup.describe('other').state === 'stopped' ? true : undefined), 20_000);
    sup.remove('other');
    assert.equal(sup.has('other'), false, 'ctl rm is not refused');
    await waitFor('its holder gone too', () => (isAlive(b.holderPid!) || isAlive(b.pid!) ? undefined : true), 10_000);

    assert.equal(store.get('filler')?.state, 'running', 'nothing reached the disk while it was full');
    store.full = false;
    await waitFor('the store to converge', () => (store.get('filler')?.state === 'stopped' && store.get('other') === undefined ? true : undefined), StoreWrites.RETRY_MS * 3);
    assert.match(store.output('filler')?.toString() ?? '', /before-full/);
  } finally {
    sup.shutdown();
    store.close();
    await cleanup(sb);
  }
});
