import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { AgentStore } from '../src/daemon/agent-store.js';
import { Supervisor } from '../src/daemon/supervisor.js';
import { HolderLink } from '../src/holder/link.js';
import { cleanup, makeSandbox, waitFor } from './daemon-harness.js';

/**
 * What a watcher of the fleet sees when an agent ends, in order: the exit recorded with
 * the run's output already saved, then the new state announced, and only after both the
 * run's cleanup (its private tmp, the lease, the cgroup), which may take long. The output
 * comes with the holder's exit: the daemon does not ask for it, a round trip per exit.
 */
test('an exit is recorded and announced, with its output saved, before the run is cleaned up; the holder is not asked for the output', { timeout: 60_000 }, async () => {
  const sb = makeSandbox();
  const store = new AgentStore(sb.paths.stateDir);
  let tmpDir: string | undefined;
  const atExitAudit: Array<{ tmpExists: boolean; output: string }> = [];
  const atChange: Array<{ state: string; tmpExists: boolean }> = [];
  const sup = new Supervisor({
    paths: sb.paths,
    store,
    scrollbackBytes: 65536,
    baseEnv: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    audit: {
      record(e) {
        if (e.type === 'exit' && e.agent === 'ender') atExitAudit.push({ tmpExists: existsSync(tmpDir!), output: store.output('ender')?.toString() ?? '' });
      },
    },
  });
  sup.onChange((name) => {
    if (name === 'ender' && sup.has(name)) atChange.push({ state: sup.describe(name).state, tmpExists: existsSync(tmpDir!) });
  });
  // Asked for the whole scrollback after the kill (the test's own logs calls come before it).
  let killed = false;
  const fullOutputAsked: number[] = [];
  const logsNow = HolderLink.prototype.logsNow;
  HolderLink.prototype.logsNow = function (bytes, done) {
    if (killed && bytes === undefined) fullOutputAsked.push(Date.now());
    return logsNow.call(this, bytes, done);
  };
  try {
    await sup.spawn({ name: 'ender', argv: ['sh', '-c', 'echo "tmp=$TMPDIR"; echo last-words; exec sleep 300'], workspace: sb.workspace, backend: 'auto' });
    tmpDir = await waitFor('its tmp dir printed', async () => /tmp=(\S+)/.exec((await sup.logs('ender')).toString())?.[1]);
    await waitFor('its last words', async () => ((await sup.logs('ender')).includes('last-words') ? true : undefined));
    assert.ok(existsSync(tmpDir), `the private tmp ${tmpDir} exists while it runs`);

    killed = true;
    sup.kill('ender', 'KILL');
    await waitFor('ender stopped', () => (sup.describe('ender').state === 'stopped' ? true : undefined), 20_000);
    await waitFor('its tmp removed', () => (existsSync(tmpDir!) ? undefined : true), 10_000);

    assert.equal(atExitAudit.length, 1, 'one exit recorded');
    assert.match(atExitAudit[0]!.output, /last-words/, 'the output was saved before the exit was recorded');
    assert.equal(atExitAudit[0]!.tmpExists, true, 'the exit was recorded before the cleanup');
    const stopped = atChange.find((c) => c.state === 'stopped');
    assert.ok(stopped, `the stop was announced (changes seen: ${JSON.stringify(atChange)})`);
    assert.equal(stopped.tmpExists, true, 'the stop was announced before the cleanup');
    assert.deepEqual(fullOutputAsked, [], 'the daemon did not ask the holder for the output after the exit');
    assert.match((await sup.logs('ender')).toString(), /last-words/, 'the saved output answers logs once the holder is gone');
  } finally {
    HolderLink.prototype.logsNow = logsNow;
    sup.shutdown();
    store.close();
    await cleanup(sb);
  }
});
