import type Database from 'better-sqlite3';

/**
 * Versioned migrations, tracked in SQLite's `user_version`. Migration N brings the
 * schema from version N-1 to N. Never edit a shipped migration: add the next one.
 */
const MIGRATIONS: readonly string[] = [
  // 1: the event chain, its recorded head, and small key/value metadata.
  `
  CREATE TABLE events (
    id        INTEGER PRIMARY KEY,
    ts        INTEGER NOT NULL,
    type      TEXT    NOT NULL,
    agent     TEXT,
    data      TEXT    NOT NULL,
    prev_hash TEXT    NOT NULL,
    hash      TEXT    NOT NULL
  );
  -- history NAME [--since]: newest first for one agent, straight off the index.
  CREATE INDEX events_agent_ts ON events (agent, ts);
  CREATE INDEX events_type_ts ON events (type, ts);
  CREATE INDEX events_ts ON events (ts);
  -- The last id and hash written; catches rows removed from the end of the chain.
  CREATE TABLE chain_head (
    singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
    id        INTEGER NOT NULL,
    hash      TEXT    NOT NULL
  );
  CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
  );
  `,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

/**
 * Bring the schema up to date. Runs inside BEGIN IMMEDIATE and re-reads the version
 * there, so two processes opening a new database at once migrate it exactly once.
 * A database from a newer Celistra is refused rather than written with old code.
 */
export function migrate(db: Database.Database): void {
  if (currentVersion(db) === SCHEMA_VERSION) return;
  db.transaction(() => {
    const version = currentVersion(db);
    if (version > SCHEMA_VERSION) {
      throw new NewerSchemaError(version);
    }
    for (let v = version; v < SCHEMA_VERSION; v++) db.exec(MIGRATIONS[v]!);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  }).immediate();
}

export function assertNotNewer(db: Database.Database): void {
  const version = currentVersion(db);
  if (version > SCHEMA_VERSION) throw new NewerSchemaError(version);
}

function currentVersion(db: Database.Database): number {
  return db.pragma('user_version', { simple: true }) as number;
}

export class NewerSchemaError extends Error {
  constructor(readonly version: number) {
    super(`the audit database has schema version ${version}, newer than this Celistra understands (${SCHEMA_VERSION})`);
  }
}
