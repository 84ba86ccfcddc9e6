/**
 * The pg pool and connection settings shared by the store's pool and its
 * LISTEN connection. bigint columns (epoch milliseconds, seq) are read as
 * numbers: they stay far below 2^53. The pool reconnects by itself: a
 * connection that fails is discarded and the next query opens a new one;
 * an idle connection that the server drops (a restart) raises 'error' on
 * the pool, which is logged rather than left to crash the process.
 */
import pg from 'pg';
import type { PostgresStoreConfig } from '../../../config/store.ts';
import { mapConnectionError } from './errors.ts';

const INT8_OID = 20;

const types = {
  getTypeParser(oid: number, format?: string) {
    if (oid === INT8_OID && format !== 'binary') return (text: string) => Number(text);
    return pg.types.getTypeParser(oid, format as 'text');
  },
} as pg.CustomTypesConfig;

export function connectionConfig(config: PostgresStoreConfig): pg.ClientConfig {
  return {
    connectionString: config.url,
    connectionTimeoutMillis: config.connectTimeoutMs,
    keepAlive: true,
    application_name: 'keepwire',
    types,
  };
}

export function createPool(
  config: PostgresStoreConfig,
  logError: (error: unknown, what: string) => void,
): pg.Pool {
  // pg-pool applies connectionTimeoutMillis to waiting for a free pooled
  // connection as well as to opening one. Under a burst (thousands of agents
  // re-polling) the wait is queueing, not an unreachable server, and failing
  // it would turn load into errors and the errors into more load. So opening
  // a connection keeps its timeout (set on each client) and the wait for a
  // free one has none; an HTTP request still ends at its own timeout.
  const connect = connectionConfig(config);
  class TimedClient extends pg.Client {
    constructor(options: pg.ClientConfig = {}) {
      super({ ...options, connectionTimeoutMillis: config.connectTimeoutMs });
    }
  }
  const pool = new pg.Pool({
    ...connect,
    connectionTimeoutMillis: 0,
    Client: TimedClient,
    max: config.poolSize,
  });
  pool.on('error', (error) => logError(error, 'an idle store connection'));
  return pool;
}

/** Runs work in one transaction on one pooled connection; a broken connection is discarded. */
export async function inTransaction<T>(
  pool: pg.Pool,
  work: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  let client: pg.PoolClient;
  try {
    client = await pool.connect();
  } catch (error) {
    throw mapConnectionError(error);
  }
  let broken: Error | undefined;
  // A checked-out connection that dies between two statements emits 'error'
  // with no query to receive it; without a listener that would end the
  // process (pg documents that the holder of a client must listen).
  const onError = (error: Error) => {
    broken = error;
  };
  client.on('error', onError);
  try {
    await client.query('BEGIN');
    const value = await work(client);
    await client.query('COMMIT');
    return value;
  } catch (error) {
    await client.query('ROLLBACK').catch((rollbackError: Error) => {
      // The connection is gone: release it as broken so the pool drops it;
      // the transaction's own error is what the caller needs.
      broken = rollbackError;
    });
    throw mapConnectionError(error);
  } finally {
    client.off('error', onError);
    client.release(broken);
  }
}

/** One statement on any pooled connection; a lost connection becomes StoreUnavailableError. */
export async function query<R extends pg.QueryResultRow>(
  pool: pg.Pool,
  text: string,
  values: unknown[] = [],
): Promise<pg.QueryResult<R>> {
  try {
    return await pool.query<R>(text, values);
  } catch (error) {
    throw mapConnectionError(error);
  }
}
