import { canonicalJson } from './canonical.js';
import type { PruneData } from './events.js';
import type { AuditStore } from './store.js';

export const DEFAULT_RETENTION_DAYS = 30;
export const DAY_MS = 24 * 60 * 60 * 1000;
/** Automatic pruning runs at most this often (checked on open and after writes). */
export const AUTO_PRUNE_INTERVAL_MS = DAY_MS;
const LAST_PRUNE_KEY = 'last_prune_ts';

export interface PruneResult {
  /** Rows removed (0 when nothing was old enough). */
  pruned: number;
  cutoff: number;
  fromId?: number;
  toId?: number;
  /** The `prune` row appended as the chain's new starting anchor. */
  anchorId?: number;
}

/**
 * Remove the oldest rows — the longest prefix of the chain that is entirely older
 * than `retentionDays` — and append a `prune` anchor recording the removed id range
 * and the hash of the last removed row. The first remaining row carries that hash as
 * its prev_hash, so the shortened chain still verifies from the anchor. Only a prefix
 * is removed: cutting rows out of the middle would leave a hole nothing vouches for.
 */
export function prune(store: AuditStore, now: number, retentionDays: number): PruneResult {
  const cutoff = now - retentionDays * DAY_MS;
  return store.db.transaction((): PruneResult => {
    store.setMeta(LAST_PRUNE_KEY, String(now));
    // Walk the chain from its oldest row and stop at the first young one: the cost is the
    // rows being removed. Through the ts index SQLite would sort every younger row instead.
    const firstKept = store.db.prepare('SELECT id FROM events NOT INDEXED WHERE ts >= ? ORDER BY id LIMIT 1').get(cutoff) as { id: number } | undefined;
    const boundary = firstKept?.id ?? Number.MAX_SAFE_INTEGER;
    const last = store.db.prepare('SELECT id, hash FROM events WHERE id < ? ORDER BY id DESC LIMIT 1').get(boundary) as { id: number; hash: string } | undefined;
    if (last === undefined) return { pruned: 0, cutoff };
    const first = store.db.prepare('SELECT MIN(id) AS id FROM events').get() as { id: number };
    const pruned = store.db.prepare('DELETE FROM events WHERE id <= ?').run(last.id).changes;
    const data: PruneData = { fromId: first.id, toId: last.id, count: pruned, lastPrunedHash: last.hash, cutoff };
    const [anchor] = store.appendLocked([{ ts: now, type: 'prune', agent: null, data: canonicalJson(data) }]);
    return { pruned, cutoff, fromId: first.id, toId: last.id, anchorId: anchor!.id };
  }).immediate();
}

/** True when automatic pruning has not run for a day on this database. */
export function pruneIsDue(store: AuditStore, now: number): boolean {
  const last = Number(store.getMeta(LAST_PRUNE_KEY) ?? Number.NaN);
  return !Number.isFinite(last) || now - last >= AUTO_PRUNE_INTERVAL_MS || now < last;
}
