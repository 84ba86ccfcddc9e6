/**
 * The SQLite store's schema migrations, in order; the run that applies them
 * (versions, refusal of a newer schema) is shared with the PostgreSQL store
 * (../schema-migrations.ts). Append; never edit one that has shipped.
 *
 * Times are epoch milliseconds (INTEGER). Tokens are stored only as SHA-256
 * hashes. `seq` gives commands a total order for cursors; `claim` marks a
 * pending command being written to one waiter, `claim_owner` the node and
 * `lease_until` when the claim lapses (see store.ts).
 */
import type { DatabaseSync } from 'node:sqlite';
import { CURRENT_VERSION, driveMigrations, SCHEMA_VERSION_TABLE } from '../schema-migrations.ts';

export const MIGRATIONS: readonly string[] = [
  `CREATE TABLE agents (
     id TEXT PRIMARY KEY,
     name TEXT NOT NULL UNIQUE,
     token_hash TEXT NOT NULL UNIQUE,
     created_at INTEGER NOT NULL,
     last_seen_at INTEGER
   );
   CREATE TABLE groups (name TEXT PRIMARY KEY, created_at INTEGER NOT NULL);
   CREATE TABLE memberships (
     group_name TEXT NOT NULL REFERENCES groups(name) ON DELETE CASCADE,
     agent_id TEXT NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
     PRIMARY KEY (group_name, agent_id)
   );
   CREATE TABLE commands (
     seq INTEGER PRIMARY KEY AUTOINCREMENT,
     id TEXT NOT NULL UNIQUE,
     request_id TEXT NOT NULL,
     fingerprint TEXT NOT NULL,
     source TEXT NOT NULL,
     user TEXT,
     target_type TEXT NOT NULL,
     target_id TEXT NOT NULL,
     group_name TEXT,
     action TEXT NOT NULL,
     args TEXT NOT NULL,
     action_version TEXT NOT NULL,
     timeout_s INTEGER NOT NULL,
     status TEXT NOT NULL,
     result TEXT,
     created_at INTEGER NOT NULL,
     deadline_at INTEGER NOT NULL,
     sent_at INTEGER,
     finished_at INTEGER,
     claim TEXT
   );
   CREATE INDEX commands_request ON commands(request_id);
   CREATE INDEX commands_pending ON commands(target_type, target_id, seq) WHERE status = 'pending';
   CREATE INDEX commands_open ON commands(deadline_at) WHERE status IN ('pending', 'sent');
   CREATE INDEX commands_status ON commands(status, seq);
   CREATE INDEX commands_target ON commands(target_type, target_id, seq);`,
  // 2: an agent's groups are read on every authenticated request; without
  // this each read scanned every membership (found by bench/commands.ts).
  'CREATE INDEX memberships_agent ON memberships(agent_id, group_name);',
  // 3: client ids are unique by constraint (replays are decided in the
  // command service), and claims carry an owner and a lease instead of being
  // dropped wholesale at start. Claims from before leases are cleared: they
  // belonged to this single node's earlier run.
  `CREATE TABLE requests (request_id TEXT PRIMARY KEY, fingerprint TEXT NOT NULL, created_at INTEGER NOT NULL);
   INSERT INTO requests SELECT request_id, MIN(fingerprint), MIN(created_at) FROM commands GROUP BY request_id;
   ALTER TABLE commands ADD COLUMN claim_owner TEXT;
   ALTER TABLE commands ADD COLUMN lease_until INTEGER;
   UPDATE commands SET claim = NULL WHERE claim IS NOT NULL;
   CREATE INDEX commands_claimed ON commands(lease_until) WHERE claim IS NOT NULL;`,
  // 4: agent tokens can be revoked (the record stays, marked with the time)
  // and can expire.
  `ALTER TABLE agents ADD COLUMN revoked_at INTEGER;
   ALTER TABLE agents ADD COLUMN token_expires_at INTEGER;`,
];

/**
 * Runs the migrations this database lacks (schema-migrations.ts), each in
 * its own BEGIN IMMEDIATE transaction: a second process opening the file
 * at once waits on the write lock, then finds nothing left to do.
 */
export function migrate(db: DatabaseSync, now: number, migrations = MIGRATIONS): number {
  return driveMigrations(migrations, (step) => {
    if (step.kind === 'read-version') {
      db.exec(SCHEMA_VERSION_TABLE);
      return (db.prepare(CURRENT_VERSION).get() as { version: number | null }).version ?? 0;
    }
    db.exec('BEGIN IMMEDIATE');
    try {
      db.exec(step.sql);
      db.prepare('INSERT INTO schema_version (version, applied_at) VALUES (?, ?)').run(
        step.version,
        now,
      );
      db.exec('COMMIT');
    } catch (error) {
      db.exec('ROLLBACK');
      throw error;
    }
    return undefined;
  });
}
