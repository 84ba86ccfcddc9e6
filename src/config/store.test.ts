import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigInvalidError } from './errors.ts';
import { loadConfig } from './load.ts';

test('store: SQLite by default; a url alone (KEEPWIRE_STORE__URL) means PostgreSQL', () => {
  assert.deepEqual(loadConfig({ env: {} }).store, {
    type: 'sqlite',
    synchronous: 'normal',
    busyTimeoutMs: 5000,
  });
  const shared = loadConfig({ env: { KEEPWIRE_STORE__URL: 'postgres://kw@127.0.0.1:5432/kw' } });
  assert.deepEqual(shared.store, {
    type: 'postgres',
    url: 'postgres://kw@127.0.0.1:5432/kw',
    poolSize: 10,
    connectTimeoutMs: 5000,
    reconnectMaxDelayMs: 5000,
  });
  const flag = loadConfig({
    env: {},
    overrides: { 'store.type': 'postgres', 'store.url': 'postgresql://db/kw' },
  });
  assert.equal(flag.store.type, 'postgres');
});

test('store: strict per type; an error names the field', () => {
  assert.throws(
    () => loadConfig({ env: { KEEPWIRE_STORE__TYPE: 'postgres', KEEPWIRE_STORE__PATH: 'x.db' } }),
    (error: unknown) => error instanceof ConfigInvalidError && /store/.test(error.message),
  );
  assert.throws(
    () => loadConfig({ env: { KEEPWIRE_STORE__URL: 'mysql://db/kw' } }),
    (error: unknown) => error instanceof ConfigInvalidError && /store\.url/.test(error.message),
  );
  assert.throws(
    () => loadConfig({ env: { KEEPWIRE_STORE__TYPE: 'mongo' } }),
    (error: unknown) => error instanceof ConfigInvalidError && /store\.type/.test(error.message),
  );
});
