import { mkdtempSync, rmdirSync } from 'node:fs';
import { removeTree } from '../fs/tree-remove.js';
import { join } from 'node:path';
import type { CelistraPaths } from '../policy/paths.js';
import { ensurePrivateDir } from '../fs/private-dir.js';

/**
 * Each run or agent gets its own temp dir, exported as TMPDIR. It lives under
 * Celistra's runtime dir, which every policy read-denies, so one agent cannot see
 * another's temp files; the backend binds only the agent's own dir back in.
 */
export function createPrivateTmp(paths: CelistraPaths, label: string): string {
  const base = join(paths.runtimeDir, 'tmp');
  ensurePrivateDir(paths.runtimeDir);
  ensurePrivateDir(base);
  return mkdtempSync(join(base, `${label.replace(/[^A-Za-z0-9_.-]/g, '_')}-`));
}

export function removePrivateTmp(dir: string): void {
  // Usually empty: a plain rmdir is much cheaper than a recursive walk, and this runs
  // on every `celistra run` exit.
  try {
    rmdirSync(dir);
  } catch {
    // The agent's files: removed without following a link it may have left there.
    removeTree(dir);
  }
}
