/**
 * The PostgreSQL store's schema migrations, the same model as the SQLite
 * store's (same tables and column names, so rows map the same way); the run
 * that applies them (versions, refusal of a newer schema) is shared with the
 * SQLite store (../schema-migrations.ts). Several nodes may start at once:
 * the whole run is one transaction holding an advisory lock, so one node
 * migrates and the others then find nothing to do. Append; never edit a
 * shipped one.
 *
 * Times are epoch milliseconds (bigint). `args` and `result` are JSON text,
 * not jsonb: jsonb reorders keys, and a replayed command must read back
 * exactly as first answered.
 */
import type pg from 'pg';
import {
  CURRENT_VERSION,
  driveMigrationsAsync,
  SCHEMA_VERSION_TABLE,
} from '../schema-migrations.ts';
import { mapConnectionError } from './errors.ts';
import { inTransaction } from './pool.ts';

/** An arbitrary constant naming the migration lock among advisory locks. */
const MIGRATION_LOCK = 0x6b77_6d67;

export const MIGRATIONS: readonly string[] = [
  `CREATE TABLE agents (
     id text PRIMARY KEY,
     name text NOT NULL CONSTRAINT agents_name_key UNIQUE,
     token_hash text NOT NULL UNIQUE,
     created_at bigint NOT NULL,
     last_seen_at bigint
   );
   CREATE TABLE groups (name text PRIMARY KEY, created_at bigint NOT NULL);
   CREATE TABLE memberships (
     group_name text NOT NULL REFERENCES groups(name) ON DELETE CASCADE,
     agent_id text NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
     PRIMARY KEY (group_name, agent_id)
   );
   CREATE INDEX memberships_agent ON memberships(agent_id, group_name);
   CREATE TABLE requests (
     request_id text PRIMARY KEY,
     fingerprint text NOT NULL,
     created_at bigint NOT NULL
   );
   CREATE TABLE commands (
     seq bigserial PRIMARY KEY,
     id text NOT NULL CONSTRAINT commands_id_key UNIQUE,
     request_id text NOT NULL,
     source text NOT NULL,
     "user" text,
     target_type text NOT NULL,
     target_id text NOT NULL,
     group_name text,
     action text NOT NULL,
     args text NOT NULL,
     action_version text NOT NULL,
     timeout_s integer NOT NULL,
     status text NOT NULL,
     result text,
     created_at bigint NOT NULL,
     deadline_at bigint NOT NULL,
     sent_at bigint,
     finished_at bigint,
     claim text,
     claim_owner text,
     lease_until bigint
   );
   CREATE INDEX commands_request ON commands(request_id, seq);
   CREATE INDEX commands_pending ON commands(target_type, target_id, seq) WHERE status = 'pending';
   CREATE INDEX commands_open ON commands(deadline_at) WHERE status IN ('pending', 'sent');
   CREATE INDEX commands_claimed ON commands(lease_until) WHERE claim IS NOT NULL;
   CREATE INDEX commands_status ON commands(status, seq);
   CREATE INDEX commands_target ON commands(target_type, target_id, seq);`,
  // 2: agent tokens can be revoked (the record stays, marked with the time)
  // and can expire.
  `ALTER TABLE agents ADD COLUMN revoked_at bigint;
   ALTER TABLE agents ADD COLUMN token_expires_at bigint;`,
];

/**
 * Runs the migrations this database lacks (schema-migrations.ts), all in
 * one transaction under the migration lock.
 */
export async function migrate(
  pool: pg.Pool,
  now: number,
  migrations = MIGRATIONS,
): Promise<number> {
  return inTransaction(pool, async (client) => {
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    return driveMigrationsAsync(migrations, async (step) => {
      if (step.kind === 'read-version') {
        await client.query(SCHEMA_VERSION_TABLE);
        const { rows } = await client.query<{ version: number | null }>(CURRENT_VERSION);
        return rows[0]?.version ?? 0;
      }
      try {
        await client.query(step.sql);
        await client.query('INSERT INTO schema_version (version, applied_at) VALUES ($1, $2)', [
          step.version,
          now,
        ]);
      } catch (error) {
        // Losing the server mid-run is "unreachable, retry", not a broken migration.
        throw mapConnectionError(error);
      }
      return undefined;
    });
  });
}
