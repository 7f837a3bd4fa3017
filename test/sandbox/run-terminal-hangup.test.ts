/**
 * An interactive `celistra run` whose terminal hangs up (the ssh session or the window
 * gone): the command gets its SIGHUP and the run exits with the command's status (129),
 * its exit in the audit log. Before, Node's exit-time restore of the terminal failed on
 * the dead terminal and the run died of SIGSEGV/SIGABRT, or of an unhandled EIO on its
 * last write (src/run/terminal-exit.ts, src/cli/command.ts), or of a further SIGHUP once
 * the command had ended (src/run/launch.ts). On both Linux backends.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import * as pty from 'node-pty';
import { CELISTRA_BIN, runCelistra } from '../support/celistra-cli.js';
import { isolatedEnv } from '../support/isolated-env.js';
import { landlockBackend } from '../../src/backends/landlock/index.js';
import { bwrapBackend } from '../../src/backends/bwrap/index.js';

for (const backend of [landlockBackend, bwrapBackend]) {
  const caps = backend.probe();
  const skip = caps.available ? false : `${backend.name} unavailable here: ${caps.unavailableReason}`;
  test(`${backend.name}: a run whose terminal hangs up exits with its command's status, not a crash of its own`, { skip }, async () => {
    const iso = isolatedEnv('celistra-hangup-');
    const ws = join(iso.root, 'ws');
    mkdirSync(ws);
    const term = pty.spawn(process.execPath, [CELISTRA_BIN, 'run', '--backend', backend.name, '--workspace', ws, '--', 'sh', '-c', 'echo started; sleep 30'], { cols: 80, rows: 24, env: iso.env });
    let seen = '';
    term.onData((d) => (seen += d));
    const exited = new Promise<{ exitCode: number; signal?: number }>((r) => term.onExit(r));
    const deadline = Date.now() + 20_000;
    while (!seen.includes('started') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.ok(seen.includes('started'), `the command did not start: ${seen.slice(-300)}`);
    // Closing the terminal's master side is a hangup: SIGHUP to the session, EIO on the
    // terminal. node-pty's UnixTerminal has destroy() (close the master), its IPty type does not.
    (term as unknown as { destroy(): void }).destroy();
    // More SIGHUPs follow (node-pty sends one of its own after closing; a desktop session
    // may too): one that lands after the command ended, while the run writes its exit,
    // must not kill it (Node's default for SIGHUP is to die).
    let done = false;
    const again = setInterval(() => {
      try {
        if (!done) process.kill(term.pid, 'SIGHUP');
      } catch {
        // gone
      }
    }, 10);
    const timer = setTimeout(() => process.kill(term.pid, 'SIGKILL'), 20_000);
    const { exitCode, signal } = await exited;
    done = true;
    clearInterval(again);
    clearTimeout(timer);
    assert.equal(signal ?? 0, 0, `the run died of signal ${signal} (its own crash) instead of exiting`);
    assert.equal(exitCode, 129, 'the run\'s status is not its command\'s (SIGHUP: 128 + 1)');
    const history = runCelistra(['history', '--json'], { env: iso.env });
    const events = JSON.parse(history.stdout.toString()) as { type: string; data: { signal?: string } }[];
    assert.equal(events[0]?.type, 'exit', 'the run\'s exit is not the newest audit event');
    assert.equal(events[0]?.data.signal, 'SIGHUP');
  });
}
