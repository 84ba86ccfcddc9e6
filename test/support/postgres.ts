/**
 * A fresh PostgreSQL database per test on the shared server
 * (127.0.0.1:5432, trust authentication, reached through the `test`
 * database), dropped afterwards. KEEPWIRE_TEST_PG_URL points elsewhere
 * (same form: a URL of an existing database to connect through).
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export const ADMIN_URL =
  process.env.KEEPWIRE_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface TestDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

/** A URL for another database on the server of `adminUrl`. */
export function databaseUrl(adminUrl: string, name: string): string {
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/** Runs work on a connection to the server through `adminUrl` (the `test` database). */
export async function onAdmin<T>(
  adminUrl: string,
  work: (client: pg.Client) => Promise<T>,
): Promise<T> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

export async function createTestDatabase(adminUrl = ADMIN_URL): Promise<TestDatabase> {
  const name = `kw_test_${randomBytes(6).toString('hex')}`;
  await onAdmin(adminUrl, (c) => c.query(`CREATE DATABASE ${name}`));
  return {
    url: databaseUrl(adminUrl, name),
    name,
    drop: () =>
      onAdmin(adminUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(
        () => {},
      ),
  };
}
