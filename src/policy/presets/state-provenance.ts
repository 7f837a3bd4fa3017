import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync, type Stats } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Which agent state dirs Celistra made itself. Before per-agent dirs, a preset's base was
 * one config dir that every fenced agent could write, so a dir found under it may hold
 * what another agent planted (a login, MCP servers, settings, a dir for a workspace it
 * guessed). Only a dir Celistra created, and recorded here, is trusted. The record lives
 * in Celistra's own state dir, which no fenced agent has ever been able to write.
 */
interface ProvenanceRecord {
  dir: string;
  dev: number;
  ino: number;
  birthtimeMs: number;
}

/** True when `st` is the directory at `dir` that the record at `recordFile` says Celistra created. */
export function madeByCelistra(recordFile: string, dir: string, st: Stats): boolean {
  let record: Partial<ProvenanceRecord>;
  try {
    record = JSON.parse(readFileSync(recordFile, 'utf8')) as Partial<ProvenanceRecord>;
  } catch {
    return false;
  }
  return record.dir === dir && record.dev === st.dev && record.ino === st.ino && record.birthtimeMs === st.birthtimeMs;
}

/** Records that Celistra just created the directory `dir` (stat `st`); written by rename, never half-written. */
export function recordMadeByCelistra(recordFile: string, dir: string, st: Stats): void {
  mkdirSync(dirname(recordFile), { recursive: true, mode: 0o700 });
  const record: ProvenanceRecord = { dir, dev: st.dev, ino: st.ino, birthtimeMs: st.birthtimeMs };
  const tmp = `${recordFile}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, `${JSON.stringify(record)}\n`, { mode: 0o600 });
    renameSync(tmp, recordFile);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}
