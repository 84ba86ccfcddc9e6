/**
 * The shared migration run, carried out by each store's own driver on a real
 * database (a SQLite file; a PostgreSQL database of the test's own): the
 * same lists give the same versions in both, a newer schema is refused by
 * both, and a failing migration is named by both; what a failure keeps is
 * the dialect's (SQLite: each migration its own transaction; PostgreSQL: the
 * whole run one transaction).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, test } from 'node:test';
import pg from 'pg';
import { createTestDatabase } from '../../../test/support/postgres.ts';
import { StoreUnavailableError } from '../errors.ts';
import { migrate as migratePostgres } from './postgres/migrations.ts';
import { driveMigrations } from './schema-migrations.ts';
import { migrate as migrateSqlite } from './sqlite/migrations.ts';

const A = 'CREATE TABLE a (x integer)';
const B = 'CREATE TABLE b (x integer)';
const C = 'CREATE TABLE c (x integer)';
const BROKEN = 'CREATE TABLE broken (x integer) ;; not sql at all';

/** One dialect's database, seen through the same few questions. */
interface Dialect {
  migrate(migrations: readonly string[]): Promise<number>;
  versions(): Promise<number[]>;
  tables(): Promise<string[]>;
  close(): Promise<void>;
}

const dir = mkdtempSync(join(tmpdir(), 'kw-migrations-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;

async function sqlite(): Promise<Dialect> {
  const db = new DatabaseSync(join(dir, `m${files++}.db`));
  return {
    migrate: async (migrations) => migrateSqlite(db, 1_000, migrations),
    versions: async () =>
      (
        db.prepare('SELECT version FROM schema_version ORDER BY version').all() as {
          version: number;
        }[]
      ).map((r) => r.version),
    tables: async () =>
      (
        db
          .prepare(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name <> 'schema_version' ORDER BY name",
          )
          .all() as { name: string }[]
      ).map((r) => r.name),
    close: async () => db.close(),
  };
}

async function postgres(): Promise<Dialect> {
  const database = await createTestDatabase();
  const pool = new pg.Pool({ connectionString: database.url, max: 2 });
  return {
    migrate: (migrations) => migratePostgres(pool, 1_000, migrations),
    versions: async () =>
      (await pool.query('SELECT version FROM schema_version ORDER BY version')).rows.map(
        (r: { version: number }) => r.version,
      ),
    tables: async () =>
      (
        await pool.query(
          "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'schema_version' ORDER BY tablename",
        )
      ).rows.map((r: { tablename: string }) => r.tablename),
    close: async () => {
      await pool.end();
      await database.drop();
    },
  };
}

for (const [name, open] of [
  ['sqlite', sqlite],
  ['postgres', postgres],
] as const) {
  test(`${name}: migrations run once each, in order; later ones apply on the next run`, async () => {
    const db = await open();
    try {
      assert.equal(await db.migrate([A, B]), 2);
      assert.deepEqual(await db.versions(), [1, 2]);
      assert.equal(await db.migrate([A, B]), 2, 'nothing left to do');
      assert.equal(await db.migrate([A, B, C]), 3);
      assert.deepEqual(await db.versions(), [1, 2, 3]);
      assert.deepEqual(await db.tables(), ['a', 'b', 'c']);
    } finally {
      await db.close();
    }
  });

  test(`${name}: a schema newer than the code is refused, and nothing is run`, async () => {
    const db = await open();
    try {
      await db.migrate([A, B, C]);
      await assert.rejects(db.migrate([A, B]), {
        code: 'CTRL_STORE',
        message: /schema version 3, newer than this keepwire knows \(2\)/,
      });
      assert.deepEqual(await db.versions(), [1, 2, 3]);
    } finally {
      await db.close();
    }
  });

  test(`${name}: a failing migration is named; what it keeps is the dialect's`, async () => {
    const db = await open();
    try {
      await assert.rejects(db.migrate([A, BROKEN, C]), {
        code: 'CTRL_STORE',
        message: /^schema migration 2 failed: /,
      });
      // SQLite: each migration is its own transaction, so 1 stays. PostgreSQL:
      // the run is one transaction, so nothing stays.
      const kept = name === 'sqlite' ? [1] : [];
      assert.deepEqual(await db.versions().catch(() => []), kept);
      assert.deepEqual(await db.tables(), name === 'sqlite' ? ['a'] : []);
      assert.equal(await db.migrate([A, B]), 2, 'a fixed list then runs');
      assert.deepEqual(await db.versions(), [1, 2]);
    } finally {
      await db.close();
    }
  });
}

test('an error that already says what happened (store unreachable) passes through unrenamed', () => {
  const unreachable = new StoreUnavailableError(new Error('connection terminated'));
  assert.throws(
    () =>
      driveMigrations([A, B], (step) => {
        if (step.kind === 'read-version') return 0;
        throw unreachable;
      }),
    (error) => error === unreachable,
  );
});
