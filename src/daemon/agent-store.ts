import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { AgentRecord } from './agent-spec.js';
import { CelistraError } from '../policy/errors.js';

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

/**
 * The supervisor's writes to the store, which must never stop it from acting (issue 19,
 * class 6): with the disk full, an exit that cannot be saved must still free the agent
 * (a killed agent used to stay `running` until the daemon restarted, and `ctl rm` was
 * refused). A write that fails is kept in memory, the newest per agent, and retried
 * every RETRY_MS until it lands; the daemon's view stays true meanwhile and the state
 * on disk converges once space returns. `onError` is told of each first failure.
 */
export class StoreWrites {
  static readonly RETRY_MS = 2000;
  private readonly pending = new Map<string, { record?: AgentRecord; output?: Buffer; deleted?: boolean }>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: AgentStore,
    private readonly onError: (what: string, error: unknown) => void = () => {},
  ) {}

  update(record: AgentRecord): void {
    const name = record.spec.name;
    this.attempt(name, 'update', () => this.store.update(record), (p) => (p.record = record));
  }

  saveOutput(name: string, output: Buffer): void {
    this.attempt(name, 'saveOutput', () => this.store.saveOutput(name, output), (p) => (p.output = output));
  }

  delete(name: string): void {
    this.pending.delete(name);
    this.attempt(name, 'delete', () => this.store.delete(name), (p) => (p.deleted = true));
  }

  /** Saved output, including output whose save is still pending. */
  output(name: string): Buffer | undefined {
    return this.pending.get(name)?.output ?? this.store.output(name);
  }

  /** Writes not on disk yet (for tests and `daemon status`). */
  get backlog(): number {
    return this.pending.size;
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private attempt(name: string, what: string, write: () => void, keep: (p: { record?: AgentRecord; output?: Buffer; deleted?: boolean }) => void): void {
    const waiting = this.pending.get(name);
    if (waiting && !waiting.deleted) {
      // Order matters per agent: behind an earlier failed write, this one waits too.
      keep(waiting);
      return;
    }
    try {
      write();
    } catch (e) {
      const p = waiting ?? {};
      keep(p);
      if (!this.pending.has(name)) this.onError(what, e);
      this.pending.set(name, p);
      this.timer ??= setInterval(() => this.retry(), StoreWrites.RETRY_MS);
      this.timer.unref();
    }
  }

  private retry(): void {
    for (const [name, p] of this.pending) {
      try {
        if (p.deleted) this.store.delete(name);
        else {
          if (p.record) this.store.update(p.record);
          if (p.output) this.store.saveOutput(name, p.output);
        }
        this.pending.delete(name);
      } catch {
        // Still no space: next round.
      }
    }
    if (this.pending.size === 0) this.stop();
  }
}
