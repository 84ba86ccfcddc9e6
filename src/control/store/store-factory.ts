/**
 * Chooses the command store from the `store` configuration: SQLite in the
 * data directory for one node, PostgreSQL for several nodes sharing it.
 */
import { join } from 'node:path';
import type { StoreConfig } from '../../config/store.ts';
import { PostgresStore } from './postgres/postgres-store.ts';
import { SqliteStore } from './sqlite/sqlite-store.ts';
import type { Store } from './store.ts';

export interface StoreDeps {
  dataDir: string;
  /** This node's id: owner of its claims, sender of its wake-ups. */
  nodeId: string;
  now: () => number;
  logError: (error: unknown, what: string) => void;
  logInfo: (message: string) => void;
}

export function createStore(config: StoreConfig, deps: StoreDeps): Store {
  if (config.type === 'postgres') {
    return new PostgresStore({
      config,
      nodeId: deps.nodeId,
      now: deps.now,
      logError: deps.logError,
      logInfo: deps.logInfo,
    });
  }
  return new SqliteStore({
    path: config.path ?? join(deps.dataDir, 'control.db'),
    synchronous: config.synchronous,
    busyTimeoutMs: config.busyTimeoutMs,
    now: deps.now,
  });
}
