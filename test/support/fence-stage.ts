import { chmodSync, lstatSync, mkdirSync, readdirSync, readFileSync, realpathSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isolatedEnv, type IsolatedEnv } from './isolated-env.js';
import { scratchDir } from './scratch-dir.js';

/** Everything about a path a fenced command could change: a test compares it before and after. */
export function snapshotTree(p: string): unknown {
  const st = lstatSync(p, { throwIfNoEntry: false });
  if (!st) return null;
  const base = { mode: st.mode, mtimeMs: st.mtimeMs, nlink: st.nlink, uid: st.uid, size: st.size };
  if (st.isDirectory()) return { ...base, entries: readdirSync(p).sort().map((e) => [e, snapshotTree(join(p, e))]) };
  if (st.isFile()) return { ...base, content: readFileSync(p).toString('base64') };
  return base;
}

export interface FenceStage extends IsolatedEnv {
  /** The fenced command's workspace. */
  ws: string;
  /** Another agent's directory beside it. */
  sibling: string;
  /** A file in the scratch home with a fixed mode and mtime. */
  canary: string;
  cleanup(): void;
}

/**
 * A workspace, a sibling "other agent" dir, and a scratch home with a canary and a
 * secret key. `base` puts the workspace outside /tmp (some backends keep /tmp private).
 */
export function fenceStage(prefix: string, base?: string): FenceStage {
  const iso = isolatedEnv(prefix);
  const root = base ? realpathSync(scratchDir(prefix, base)) : iso.root;
  const ws = join(root, 'ws');
  const sibling = join(root, 'wt-b');
  mkdirSync(ws);
  mkdirSync(sibling);
  writeFileSync(join(sibling, 'file'), 'other agent\n');
  const canary = join(iso.home, 'canary');
  writeFileSync(canary, 'canary\n');
  chmodSync(canary, 0o644);
  utimesSync(canary, new Date('2020-01-02T03:04:05Z'), new Date('2020-01-02T03:04:05Z'));
  mkdirSync(join(iso.home, '.ssh'), { mode: 0o700 });
  writeFileSync(join(iso.home, '.ssh', 'id_ed25519'), 'PRIVATE KEY\n');
  const cleanup = () => {
    rmSync(iso.root, { recursive: true, force: true });
    if (base) rmSync(root, { recursive: true, force: true });
  };
  return { ...iso, ws, sibling, canary, cleanup };
}
