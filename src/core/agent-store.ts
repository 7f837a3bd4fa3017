import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { AgentRecord } from './agent-spec.js';
import { CelistraError } from './errors.js';

/**
 * Agent records in SQLite (WAL) under the state dir, so a new daemon knows every agent
 * the last one had — and the last output of those that ended.
 */
export class AgentStore {
  private readonly db: Database.Database;

  constructor(stateDir: string) {
    mkdirSync(stateDir, { recursive: true, mode: 0o700 });
    this.db = new Database(join(stateDir, 'agents.sqlite'));
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.exec(`CREATE TABLE IF NOT EXISTS agents (
      name TEXT PRIMARY KEY,
      record TEXT NOT NULL,
      last_output BLOB
    )`);
  }

  insert(record: AgentRecord): void {
    try {
      this.db.prepare('INSERT INTO agents (name, record) VALUES (?, ?)').run(record.spec.name, JSON.stringify(record));
    } catch (e) {
      if ((e as { code?: string }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
        throw new CelistraError('E_CONFLICT', `an agent named ${record.spec.name} already exists`, 'pick another --name, or `celistra ctl rm` the old one');
      }
      throw e;
    }
  }

  update(record: AgentRecord): void {
    this.db.prepare('UPDATE agents SET record = ? WHERE name = ?').run(JSON.stringify(record), record.spec.name);
  }

  get(name: string): AgentRecord | undefined {
    const row = this.db.prepare('SELECT record FROM agents WHERE name = ?').get(name) as { record: string } | undefined;
    return row ? (JSON.parse(row.record) as AgentRecord) : undefined;
  }

  all(): AgentRecord[] {
    const rows = this.db.prepare('SELECT record FROM agents ORDER BY name').all() as { record: string }[];
    return rows.map((r) => JSON.parse(r.record) as AgentRecord);
  }

  delete(name: string): void {
    this.db.prepare('DELETE FROM agents WHERE name = ?').run(name);
  }

  /** Keep the scrollback of a run that ended, for `ctl logs` after its holder is gone. */
  saveOutput(name: string, output: Buffer): void {
    this.db.prepare('UPDATE agents SET last_output = ? WHERE name = ?').run(output, name);
  }

  output(name: string): Buffer | undefined {
    const row = this.db.prepare('SELECT last_output FROM agents WHERE name = ?').get(name) as { last_output: Buffer | null } | undefined;
    return row?.last_output ?? undefined;
  }

  close(): void {
    this.db.close();
  }
}
