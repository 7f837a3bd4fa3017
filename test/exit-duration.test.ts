/**
 * An exit's duration in the audit log (and so in `celistra history`) runs from the start
 * of the command to its end: never negative, never longer than the run. A command that
 * ends at once ended before the daemon had connected to its holder, which once made the
 * daemon measure from a start time taken after the exit ("exit code 3 after -4ms").
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openAuditLog, type AuditRow } from '../src/audit/index.js';
import { runCelistra } from './support/celistra-cli.js';
import { cleanup, makeSandbox, spawnAgent, startDaemonProcess, waitFor } from './daemon-harness.js';

function exits(stateDir: string, agent: string): AuditRow[] {
  const log = openAuditLog({ stateDir });
  try {
    return log.query({ agent, type: 'exit', limit: 10 });
  } finally {
    log.close();
  }
}

test('a daemon agent that exits at once is recorded with a duration between zero and the time it was alive', { timeout: 60_000 }, async () => {
  const sb = makeSandbox();
  let daemon;
  try {
    daemon = await startDaemonProcess(sb);
    const before = Date.now();
    await spawnAgent(sb, 'quick', ['sh', '-c', 'exit 3'], { backend: 'none' });
    const [row] = await waitFor('the exit event', () => {
      const rows = exits(sb.paths.stateDir, 'quick');
      return rows.length ? rows : undefined;
    });
    const alive = Date.now() - before;
    assert.equal(row!.data.code, 3);
    const duration = row!.data.durationMs as number;
    assert.ok(duration >= 0 && duration <= alive, `durationMs ${duration} is not within 0..${alive}`);
    const history = runCelistra(['history', 'quick'], { env: sb.env as Record<string, string> });
    assert.equal(history.status, 0, history.stderr);
    assert.match(history.stdout.toString(), /code 3 after \d+ms/);
  } finally {
    await cleanup(sb, daemon);
  }
});

test('a fenced run that exits at once is recorded with a duration between zero and the time it was alive', async () => {
  const sb = makeSandbox();
  try {
    const before = Date.now();
    const r = runCelistra(['run', '--backend', 'none', '--name', 'quick-run', '--workspace', sb.workspace, '--', 'sh', '-c', 'exit 3'], { env: sb.env as Record<string, string> });
    const alive = Date.now() - before;
    assert.equal(r.status, 3, r.stderr);
    const history = runCelistra(['history', 'quick-run', '--json'], { env: sb.env as Record<string, string> });
    assert.equal(history.status, 0, history.stderr);
    const exit = (JSON.parse(history.stdout.toString()) as AuditRow[]).find((e) => e.type === 'exit');
    assert.ok(exit, 'an exit event for the run');
    const duration = exit.data.durationMs as number;
    assert.ok(duration >= 0 && duration <= alive, `durationMs ${duration} is not within 0..${alive}`);
  } finally {
    await cleanup(sb);
  }
});
