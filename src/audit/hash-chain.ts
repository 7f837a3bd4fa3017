import { createHash } from 'node:crypto';

/**
 * Tamper evidence: every row carries
 *
 *   hash = sha256_hex( prev_hash ‖ canonical(row) )
 *
 * where `prev_hash` is the previous row's hash as 64 lowercase hex characters (ASCII),
 * `‖` is plain concatenation, and canonical(row) is the UTF-8 of
 *
 *   {"agent":A,"data":D,"id":I,"ts":T,"type":Y}
 *
 * with A the agent as a JSON string or null, D the row's stored data text (itself
 * canonical JSON, see canonical.ts), I and T decimal integers, Y the type as a JSON
 * string. The first row ever written chains from GENESIS_HASH. Because the id is
 * inside the hash, moving a row to another position breaks the chain as surely as
 * editing it.
 *
 * This detects editing, deleting, inserting and reordering by anyone who does not
 * rewrite every later hash too; it is not a signature, so someone with write access
 * who recomputes the whole tail is caught only by comparing against a head hash kept
 * elsewhere (`celistra audit verify --json` prints it).
 */
export const GENESIS_HASH = '0'.repeat(64);

export interface ChainRow {
  id: number;
  ts: number;
  type: string;
  agent: string | null;
  /** The stored data text, hashed byte for byte. */
  data: string;
  prevHash: string;
  hash: string;
}

export function canonicalRow(row: Omit<ChainRow, 'prevHash' | 'hash'>): string {
  return `{"agent":${row.agent === null ? 'null' : JSON.stringify(row.agent)},"data":${row.data},"id":${row.id},"ts":${row.ts},"type":${JSON.stringify(row.type)}}`;
}

export function chainHash(prevHash: string, canonical: string): string {
  return createHash('sha256').update(prevHash).update(canonical).digest('hex');
}

/**
 * `rows`: how many rows verified (before the first bad one). `headId`/`headHash`: the
 * newest row, worth keeping elsewhere to detect a rewritten tail later. `firstBadId` is 0
 * when SQLite could not read the file at all, so no row can be named.
 */
export type VerifyResult =
  | { ok: true; rows: number; headId: number; headHash: string }
  | { ok: false; firstBadId: number; reason: string; rows: number };

/** Where the stored chain starts: genesis, or the anchor left by the last prune. */
export interface ChainStart {
  /** The hash the first remaining row must carry as prev_hash. */
  expectedPrevHash: string;
  /** Where it came from, for messages. */
  origin: string;
}

/** The head as recorded beside the rows (last id and hash written). */
export interface ChainHead {
  id: number;
  hash: string;
}

/**
 * Walk rows in id order and name the first one that does not follow from its
 * predecessor. `startFor(firstId)` says what the first row must chain from (genesis for
 * id 1, a prune anchor otherwise, or undefined when nothing explains a missing prefix).
 */
export function verifyChain(rows: Iterable<ChainRow>, startFor: (firstId: number) => ChainStart | undefined, head: ChainHead | undefined): VerifyResult {
  let count = 0;
  let prev: ChainRow | undefined;
  for (const row of rows) {
    if (prev === undefined) {
      const start = startFor(row.id);
      if (start === undefined) {
        return bad(row.id, `row ${row.id} is the oldest row, but no prune anchor records the removal of rows before it (rows deleted from the start?)`, count);
      }
      if (row.prevHash !== start.expectedPrevHash) {
        return bad(row.id, `row ${row.id} does not chain from ${start.origin} (rows deleted, inserted or reordered?)`, count);
      }
    } else if (row.prevHash !== prev.hash) {
      return bad(row.id, `row ${row.id} does not chain from row ${prev.id} (a row before it was deleted, inserted or reordered?)`, count);
    }
    if (chainHash(row.prevHash, canonicalRow(row)) !== row.hash) {
      return bad(row.id, `row ${row.id} does not match its hash (edited?)`, count);
    }
    count++;
    prev = row;
  }
  if (head !== undefined && (prev?.id ?? 0) !== head.id) {
    const lastId = prev?.id ?? 0;
    if (head.id > lastId) {
      return bad(lastId + 1, `rows ${lastId + 1}..${head.id} are missing: the chain head records row ${head.id} (deleted from the end?)`, count);
    }
    return bad(head.id + 1, `rows after ${head.id} are not recorded in the chain head (inserted?)`, count);
  }
  if (head !== undefined && prev !== undefined && prev.hash !== head.hash) {
    return bad(prev.id, `row ${prev.id} is the newest row but its hash differs from the recorded chain head`, count);
  }
  return { ok: true, rows: count, headId: prev?.id ?? 0, headHash: prev?.hash ?? GENESIS_HASH };
}

function bad(firstBadId: number, reason: string, rows: number): VerifyResult {
  return { ok: false, firstBadId, reason, rows };
}
