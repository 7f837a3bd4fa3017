import { join, relative, sep } from 'node:path';
import type { ChangeFilter, Watch } from './snapshot.js';
import type { Stage } from './stage.js';

function under(p: string, dir: string): boolean {
  return p === dir || p.startsWith(dir + sep);
}

/**
 * What the fence must leave alone: the whole stage except the agent's own workspace
 * (but including its `.git` pointer, which must stay read-only) and the private temp
 * dirs `celistra run` makes per launch; plus the few system places attempts aim at.
 */
export function protectedWatches(stage: Stage): Watch[] {
  const ownTmp = join(stage.paths.runtimeDir, 'tmp');
  const pointer = join(stage.wtA, '.git');
  return [
    {
      path: stage.root,
      recursive: true,
      skip: (p) =>
        (under(p, stage.wtA) && p !== stage.wtA && p !== pointer) ||
        // Each `celistra run` makes and removes its own `run-*` temp dir here.
        (p.startsWith(ownTmp + sep) && relative(ownTmp, p).startsWith('run-')) ||
        p === ownTmp,
    },
    // Shared with the rest of the machine: only names this run could have made count.
    ...['/etc', '/usr/local/bin', stage.npmGlobal].map((path) => ({ path, recursive: false, onlyNamesStartingWith: `celistra-conf-${stage.tag}` })),
    { path: stage.sharedTmpDir, recursive: true },
    { path: stage.sharedShmFile, recursive: false },
  ];
}

/**
 * Changes that are the agent's own work, not an escape: its worktree's admin dir and
 * shadow git dir (HEAD, index, logs, its objects and refs) minus their read-only
 * carve-outs (gitdir, commondir, config, hooks, info, worktrees, alternates), the
 * workspace dir's own timestamps, and the launch's extra writable roots (a preset's
 * state dirs).
 */
export function agentOwnChanges(stage: Stage, granted: string[] = []): ChangeFilter {
  const readOnly = (p: string) => stage.readOnlyA.some((r) => under(p, r));
  return (p, change, before, after) => {
    if (granted.some((root) => under(p, root))) return true;
    if (p === stage.wtA) return change === 'changed' && before?.kind === 'dir' && after?.kind === 'dir' && before.ino === after.ino;
    if (p === stage.adminA || p === stage.shadowA) return change === 'changed' && before?.kind === after?.kind && before?.mode === after?.mode;
    if (under(p, stage.adminA) || under(p, stage.shadowA)) return !readOnly(p);
    return false;
  };
}
