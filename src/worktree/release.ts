import { existsSync, lstatSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CelistraError } from '../policy/errors.js';
import { removeTree } from '../fs/tree-remove.js';
import { replaceFile } from './adopt.js';
import { harvestBranch } from './harvest.js';
import { hostView } from './inspect.js';
import { refuseWhileLeased } from './lease.js';
import { layoutOf, type WorktreeRecord } from './record.js';

/**
 * Undo an adoption: the task's commits go into the main repository's branch (verified
 * import, as `celistra pull` does), the admin dir points at the main repository again,
 * and Celistra's record and shadow go. The worktree is then as `git worktree add` made
 * it, with the agent's commits on its branch. Refused while a fenced run uses it.
 */
export function releaseAdoption(record: WorktreeRecord): { tip: string | undefined } {
  if (!record.adoptedAdminDir || !record.adoptedCommonDir) {
    throw new CelistraError('E_USAGE', `worktree "${record.name}" was made by \`celistra worktree add\`, not adopted`, `remove it with \`celistra worktree rm ${record.name}\``);
  }
  const layout = layoutOf(record);
  refuseWhileLeased(record, layout);
  const view = hostView(record);
  if (view.tip) harvestBranch(view);
  if (existsSync(record.adoptedAdminDir)) {
    replaceFile(join(record.adoptedAdminDir, 'commondir'), `${record.adoptedCommonDir}\n`);
    const headFile = join(record.adoptedAdminDir, 'HEAD');
    if (view.tip && lstatSync(headFile, { throwIfNoEntry: false })?.isFile() && readFileSync(headFile, 'utf8').trim() === view.tip) {
      replaceFile(headFile, `ref: refs/heads/${record.branch}\n`);
    }
  }
  removeTree(layout.container);
  return { tip: view.tip };
}
