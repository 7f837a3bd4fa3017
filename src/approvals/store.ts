import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { ApprovalRequest } from './request.js';

/**
 * Approval requests in SQLite (WAL) under the state dir, so a daemon that restarts finds
 * the pending requests of agents that are still running. Decided requests stay as a
 * short history for `celistra approvals --all`; the audit log is the record.
 */
export class ApprovalStore {
  private readonly db: Database.Database;

  constructor(stateDir: string) {
    mkdirSync(stateDir, { recursive: true, mode: 0o700 });
    this.db = new Database(join(stateDir, 'approvals.sqlite'));
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.exec(`CREATE TABLE IF NOT EXISTS approvals (
      id TEXT PRIMARY KEY,
      created INTEGER NOT NULL,
      state TEXT NOT NULL,
      request TEXT NOT NULL
    );
    CREATE INDEX IF NOT EXISTS approvals_state ON approvals (state, created);
    CREATE TABLE IF NOT EXISTS always_allow (
      agent TEXT NOT NULL,
      fingerprint TEXT NOT NULL,
      PRIMARY KEY (agent, fingerprint)
    )`);
  }

  save(r: ApprovalRequest): void {
    this.db.prepare('INSERT OR REPLACE INTO approvals (id, created, state, request) VALUES (?, ?, ?, ?)').run(r.id, r.created, r.state, JSON.stringify(r));
  }

  pending(): ApprovalRequest[] {
    const rows = this.db.prepare("SELECT request FROM approvals WHERE state = 'pending' ORDER BY created").all() as { request: string }[];
    return rows.map((row) => JSON.parse(row.request) as ApprovalRequest);
  }

  recent(limit: number): ApprovalRequest[] {
    const rows = this.db.prepare('SELECT request FROM approvals ORDER BY created DESC LIMIT ?').all(limit) as { request: string }[];
    return rows.map((row) => JSON.parse(row.request) as ApprovalRequest).reverse();
  }

  /** Keep the decided history bounded. */
  prune(keep: number): void {
    this.db.prepare("DELETE FROM approvals WHERE state != 'pending' AND id NOT IN (SELECT id FROM approvals ORDER BY created DESC LIMIT ?)").run(keep);
  }

  addAlways(agent: string, fingerprint: string): void {
    this.db.prepare('INSERT OR IGNORE INTO always_allow (agent, fingerprint) VALUES (?, ?)').run(agent, fingerprint);
  }

  isAlways(agent: string, fingerprint: string): boolean {
    return this.db.prepare('SELECT 1 FROM always_allow WHERE agent = ? AND fingerprint = ?').get(agent, fingerprint) !== undefined;
  }

  /** An agent removed (`ctl rm`) takes its standing approvals with it: a new agent of the same name starts clean. */
  forgetAgent(agent: string): void {
    this.db.prepare('DELETE FROM always_allow WHERE agent = ?').run(agent);
  }

  close(): void {
    this.db.close();
  }
}
