import { lstatSync, mkdirSync, renameSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { readSmallFilesNoFollow } from '../fs/tree-read.js';
import { gitTry } from './git.js';
import type { WorktreeLayout } from './record.js';

/**
 * Half-done rebase / cherry-pick / revert state the agent left in its admin dir, checked
 * for what the user's `git rebase --continue` / `--skip` or `git cherry-pick --continue`
 * would execute, and moved aside when it would run a program.
 *
 * What git 2.39 runs from that state (sequencer.c, measured here): `exec`/`x` lines of
 * the todo list (as a shell command, unfenced when you continue), and a merge strategy
 * named in `rebase-merge/strategy` or `sequencer/opts` (options.strategy): any strategy
 * but ort/recursive is run as the program `git merge-<name>`, found on your PATH. The
 * other state (pick/reword/squash/fixup/drop/label/reset/merge/update-ref lines, the
 * author script, messages, heads) is data: such a rebase is left as it is and keeps
 * working. A state git would read through a link, or that cannot be read, is treated as
 * runnable (fail closed).
 *
 * The whole state dir moves, by one rename (never following a link), into the host-owned
 * container (`<container>/quarantine/<when>-<random>/<dir>`), which no agent can write:
 * your git then sees no operation in progress (HEAD stays where the agent left it).
 * To continue after reading it: move it back (the note says the command).
 */
export interface QuarantinedState {
  /** `rebase-merge`, `rebase-apply` or `sequencer`. */
  state: string;
  /** What in it would run (the first few findings). */
  reasons: string[];
  /** Where it is now. */
  movedTo: string;
  /** The shell command that puts it back. */
  restore: string;
}

const STATE_DIRS = ['rebase-merge', 'rebase-apply', 'sequencer'] as const;
/** Files git reads from a state dir whose content can name a program. */
const TODO_FILES = ['git-rebase-todo', 'todo'];
const STRATEGY_FILES = ['strategy'];
const OPTS_FILES = ['opts'];
/** Strategies git 2.39's sequencer merges in-process; any other is an external program. */
const IN_PROCESS_STRATEGIES = new Set(['ort', 'recursive']);
const MAX_STATE_FILE = 64 * 1024 * 1024;

export function runnableSequencerState(layout: WorktreeLayout): { state: string; reasons: string[] }[] {
  const found: { state: string; reasons: string[] }[] = [];
  for (const state of STATE_DIRS) {
    const dir = join(layout.adminDir, state);
    const st = lstatSync(dir, { throwIfNoEntry: false });
    if (!st) continue;
    if (!st.isDirectory()) {
      found.push({ state, reasons: [`${state} is not a directory (git would follow it)`] });
      continue;
    }
    const reasons = stateReasons(dir, layout.container);
    if (reasons.length > 0) found.push({ state, reasons });
  }
  return found;
}

function stateReasons(dir: string, cwd: string): string[] {
  const files = new Map<string, Buffer>();
  readSmallFilesNoFollow(dir, { maxFileBytes: MAX_STATE_FILE, maxDepth: 0 }, (rel, content) => files.set(rel, content));
  const reasons: string[] = [];
  for (const name of [...TODO_FILES, ...STRATEGY_FILES, ...OPTS_FILES]) {
    const st = lstatSync(join(dir, name), { throwIfNoEntry: false });
    if (st && !files.has(name)) reasons.push(`${name} is not a regular file git can be trusted to read (${st.isSymbolicLink() ? 'a link' : 'not readable as data'})`);
  }
  for (const name of TODO_FILES) {
    const text = files.get(name)?.toString('latin1');
    if (text === undefined) continue;
    for (const line of text.split('\n')) {
      // git skips leading blanks, then takes `exec` or its abbreviation `x` as the command.
      const m = /^[ \t\r]*(exec|x)(?:[ \t\r]+(.*)|[ \t\r]*$)/i.exec(line);
      if (m) reasons.push(`${name}: exec ${(m[2] ?? '').trim().slice(0, 120)}`);
    }
  }
  for (const name of STRATEGY_FILES) {
    const strategy = files.get(name)?.toString('latin1').trim();
    if (strategy !== undefined && strategy !== '' && !IN_PROCESS_STRATEGIES.has(strategy)) reasons.push(`${name}: merge strategy "${strategy.slice(0, 60)}" runs the program git-merge-${strategy.slice(0, 60)}`);
  }
  for (const name of OPTS_FILES) {
    const opts = files.get(name);
    if (opts === undefined) continue;
    // Read as git reads it (a config file; --file follows no include), from the host-owned container.
    const listed = gitTry(['config', '--file', '-', '--get-all', 'options.strategy'], { cwd: cwd, input: opts });
    if (listed.status !== 0 && listed.status !== 1) reasons.push(`${name}: not readable as config (${listed.stderr.trim().split('\n')[0]})`);
    for (const strategy of listed.stdout.split('\n').map((s) => s.trim()).filter(Boolean)) {
      if (!IN_PROCESS_STRATEGIES.has(strategy)) reasons.push(`${name}: merge strategy "${strategy.slice(0, 60)}" runs the program git-merge-${strategy.slice(0, 60)}`);
    }
  }
  return reasons.slice(0, 8);
}

/** Move every runnable state dir into the container's quarantine; what could not be moved is thrown. */
export function quarantineRunnableSequencerState(layout: WorktreeLayout): QuarantinedState[] {
  const runnable = runnableSequencerState(layout);
  if (runnable.length === 0) return [];
  const root = join(layout.container, 'quarantine');
  mkdirSync(root, { recursive: true, mode: 0o755 });
  const here = join(root, `${new Date().toISOString().replace(/[:.]/g, '-')}-${randomBytes(4).toString('hex')}`);
  mkdirSync(here, { mode: 0o700 });
  return runnable.map(({ state, reasons }) => {
    const from = join(layout.adminDir, state);
    const to = join(here, state);
    renameSync(from, to);
    return { state, reasons, movedTo: to, restore: `mv '${to}' '${from}'` };
  });
}
