import { closeSync } from 'node:fs';
import { isTerminal } from './is-terminal.js';

/**
 * At exit Node sets every terminal among descriptors 0–2 back to the termios it found
 * there at start (node::ResetStdio), with SIGTTOU blocked so that it succeeds even in
 * the background, and whatever else changed the terminal meanwhile. A non-interactive
 * `celistra run` never changes the user's terminal (it is relayed, never put in raw
 * mode: run/terminal-stdin.ts), so that restore can only undo someone else's change: a
 * run in the background (`celistra run ... > log &`) that ended while the user typed a
 * password at a prompt with echo off turned echo back on, and a full-screen program
 * in the foreground lost its raw mode (found by attack, issue 15). Node skips a
 * descriptor that is closed by then, so this closes the terminal ones as the process
 * exits, after everything was written.
 */
export function leaveTerminalsAlone(): void {
  const terminals = [0, 1, 2].filter(isTerminal);
  if (terminals.length === 0) return;
  process.once('exit', () => {
    for (const fd of terminals) {
      try {
        closeSync(fd);
      } catch {
        // Already closed: Node skips it too.
      }
    }
  });
}

/**
 * Node's exit-time restore (above) fails on a terminal that hung up (the ssh session or
 * the terminal window gone), and Node then aborts (SIGABRT; SIGSEGV seen for an
 * interactive `celistra run`) instead of exiting with the run's status, after the run's
 * own end was handled. An interactive run, which put its terminal in raw mode, wants that
 * restore while the terminal lives, so only the terminals that
 * no longer answer as terminals at exit are closed, which makes Node skip them.
 */
export function survivesTerminalHangup(): void {
  const terminals = [0, 1, 2].filter(isTerminal);
  if (terminals.length === 0) return;
  process.once('exit', () => {
    for (const fd of terminals) {
      if (isTerminal(fd)) continue;
      try {
        closeSync(fd);
      } catch {
        // Already closed: Node skips it too.
      }
    }
  });
}
