import { chmodSync, lstatSync, mkdirSync, renameSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { readFileNoFollow } from '../fs/tree-read.js';
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
 * but exactly ort/recursive — an empty one and `ort ` with a trailing blank included,
 * since git strips only the final newline — is run as the program `git merge-<name>`,
 * found on your PATH. A signing request (`gpg_sign_opt`, options.gpg-sign) makes your git
 * sign the agent's commits with a key the agent names, through your gpg: moved aside too.
 * The other state (pick/reword/squash/fixup/drop/label/reset/merge/update-ref lines, the
 * author script, which git parses strictly, messages, heads) is data: such a rebase is
 * left as it is and keeps working. A state git would read through a link, or that cannot
 * be read, is treated as runnable (fail closed).
 *
 * A bisect the agent left is looked at too: `git bisect reset` (and `git bisect start`
 * while one is in progress) runs `git checkout <BISECT_START> --` with the file's content
 * as its option, unchecked — `-f` there throws away your uncommitted changes. A
 * BISECT_START that starts with `-` (an option, not a branch or commit) is moved aside on its own
 * (git then sees no bisect in progress).
 *
 * The whole state dir moves, by one rename (never following a link), into the host-owned
 * container (`<container>/quarantine/<when>-<random>/<dir>`), which no agent can write:
 * your git then sees no operation in progress (HEAD stays where the agent left it).
 * To continue after reading it: move it back (the note says the command).
 */
export interface QuarantinedState {
  /** `rebase-merge`, `rebase-apply`, `sequencer` or `BISECT_START`. */
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
const SIGNING_FILES = ['gpg_sign_opt'];
const OPTS_FILES = ['opts'];
/** Keys of `sequencer/opts` (a config file) that name a program or a signing key. */
const OPTS_STRATEGY = 'options.strategy';
const OPTS_SIGNING = 'options.gpg-sign';
const BISECT_START = 'BISECT_START';
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
    let reasons: string[];
    try {
      reasons = stateReasons(dir, layout.container);
    } catch (e) {
      // A state dir the agent made unreadable (chmod 000) is not known to be harmless: a
      // chmod of yours would let your git read it.
      reasons = [`${state} cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`];
    }
    if (reasons.length > 0) found.push({ state, reasons });
  }
  const bisect = bisectStartReason(join(layout.adminDir, BISECT_START));
  if (bisect) found.push({ state: BISECT_START, reasons: [bisect] });
  return found;
}

/**
 * What git reads from a one-line state file (sequencer.c's read_oneliner): the content
 * less one final newline (and a carriage return before it), nothing else trimmed.
 */
function oneliner(content: Buffer): string {
  let text = content.toString('latin1');
  if (text.endsWith('\n')) text = text.slice(0, text.endsWith('\r\n') ? -2 : -1);
  return text;
}

function strategyReason(file: string, strategy: string): string | undefined {
  if (IN_PROCESS_STRATEGIES.has(strategy)) return undefined;
  const shown = JSON.stringify(strategy.slice(0, 60));
  return `${file}: merge strategy ${shown} runs the program ${JSON.stringify(`git-merge-${strategy.slice(0, 60)}`)}`;
}

/** Why BISECT_START would steer your git's checkout (an option), if it would. */
function bisectStartReason(file: string): string | undefined {
  const st = lstatSync(file, { throwIfNoEntry: false });
  if (!st) return undefined;
  if (!st.isFile()) return `${BISECT_START} is not a regular file git can be trusted to read`;
  const content = readFileNoFollow(file, MAX_STATE_FILE);
  if (!content) return `${BISECT_START} is not readable as data`;
  // git trims it (both ends for `bisect start`, the end for `bisect reset`; JS trims a
  // superset of those blanks) and gives it to `git checkout` as its first argument.
  const name = content.toString('latin1').trim();
  if (!name.startsWith('-')) return undefined;
  return `${BISECT_START}: your git bisect reset would run git checkout ${JSON.stringify(name.slice(0, 60))}`;
}

function stateReasons(dir: string, cwd: string): string[] {
  // Only the files that can name a program are read: the agent may fill the dir with
  // anything (a thousand sparse files of 60 MB each cost it no disk, and reading them all
  // took every host command on the task down).
  const files = new Map<string, Buffer>();
  const reasons: string[] = [];
  for (const name of [...TODO_FILES, ...STRATEGY_FILES, ...SIGNING_FILES, ...OPTS_FILES]) {
    const st = lstatSync(join(dir, name), { throwIfNoEntry: false });
    if (!st) continue;
    const content = st.isFile() ? readFileNoFollow(join(dir, name), MAX_STATE_FILE) : undefined;
    if (content) files.set(name, content);
    else reasons.push(`${name} is not a regular file git can be trusted to read (${st.isSymbolicLink() ? 'a link' : 'not readable as data'})`);
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
    const content = files.get(name);
    // Even an empty file names a strategy: git then runs `git merge-`.
    const reason = content === undefined ? undefined : strategyReason(name, oneliner(content));
    if (reason) reasons.push(reason);
  }
  for (const name of SIGNING_FILES) {
    const content = files.get(name);
    const sign = content === undefined ? '' : oneliner(content);
    if (sign !== '') reasons.push(`${name}: your git would sign the agent's commits (${JSON.stringify(sign.slice(0, 60))}) with your gpg`);
  }
  for (const name of OPTS_FILES) {
    const opts = files.get(name);
    if (opts === undefined) continue;
    for (const key of [OPTS_STRATEGY, OPTS_SIGNING]) {
      // Read as git reads it (a config file; --file follows no include), from the host-owned
      // container; NUL-separated, so that a value's blanks and newlines stay as git sees them.
      const listed = gitTry(['config', '-z', '--file', '-', '--get-all', key], { cwd: cwd, input: opts, encoding: 'latin1' });
      if (listed.status !== 0 && listed.status !== 1) {
        reasons.push(`${name}: not readable as config (${listed.stderr.trim().split('\n')[0]})`);
        break;
      }
      const values = listed.status === 0 ? listed.stdout.split('\0').slice(0, -1) : [];
      for (const value of values) {
        const reason = key === OPTS_STRATEGY ? strategyReason(name, value) : `${name}: your git would sign the agent's commits (${JSON.stringify(value.slice(0, 60))}) with your gpg`;
        if (reason) reasons.push(reason);
      }
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
    // Moving a directory to another parent rewrites its `..`: it needs write permission,
    // which an agent's chmod 000 took away (the dir is ours: the agent ran as us).
    const st = lstatSync(from);
    if (st.isDirectory() && (st.mode & 0o700) !== 0o700) chmodSync(from, (st.mode & 0o7777) | 0o700);
    renameSync(from, to);
    return { state, reasons, movedTo: to, restore: `mv '${to}' '${from}'` };
  });
}
