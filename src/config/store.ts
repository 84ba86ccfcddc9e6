import { z } from 'zod';

/**
 * The command store, shared by every node that points at the same one.
 * Tagged by `type`; a `url` without a type means PostgreSQL, so
 * `KEEPWIRE_STORE__URL=postgres://...` or `--store postgres://...` alone
 * switches a node to the shared store. Defaults live here and nowhere else.
 */
const sqliteStoreSchema = z.strictObject({
  type: z.literal('sqlite'),
  /** Default DATA_DIR/control.db. */
  path: z.string().min(1).optional(),
  /**
   * normal: WAL commits survive a crash of the process (kill -9); a power
   * loss may roll back the last transactions. full: fsync each commit.
   */
  synchronous: z.enum(['normal', 'full']).default('normal'),
  busyTimeoutMs: z.number().int().min(0).default(5_000),
});

const postgresStoreSchema = z.strictObject({
  type: z.literal('postgres'),
  url: z.string().regex(/^postgres(ql)?:\/\//, 'a postgres:// or postgresql:// connection URL'),
  /** Most connections in the pool (the LISTEN connection comes on top). */
  poolSize: z.number().int().min(1).max(1000).default(10),
  /** How long opening one connection may take before the call fails. */
  connectTimeoutMs: z.number().int().min(100).default(5_000),
  /** The longest wait between two attempts to reconnect the LISTEN connection. */
  reconnectMaxDelayMs: z.number().int().min(10).default(5_000),
});

export const storeSchema = z.preprocess(
  (value) => {
    if (value === undefined) return { type: 'sqlite' };
    if (typeof value === 'object' && value !== null && !('type' in value) && 'url' in value)
      return { ...value, type: 'postgres' };
    return value;
  },
  z.discriminatedUnion('type', [sqliteStoreSchema, postgresStoreSchema]),
);

export type StoreConfig = z.output<typeof storeSchema>;
export type PostgresStoreConfig = z.output<typeof postgresStoreSchema>;
