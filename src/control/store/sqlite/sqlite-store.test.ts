import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, test } from 'node:test';
import { runStoreContract } from '../contract.ts';
import { runSharedStoreContract } from '../contract-shared.ts';
import type { StoreFactory } from '../contract-support.ts';
import type { Store } from '../store.ts';
import { MIGRATIONS } from './migrations.ts';
import { SqliteStore } from './sqlite-store.ts';

const dir = mkdtempSync(join(tmpdir(), 'kw-store-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let count = 0;

/** Each instance is its own connection to one file, as two processes would be. */
const factory: StoreFactory = async () => {
  const path = join(dir, `s${count++}.db`);
  const opened: Store[] = [];
  return {
    async open() {
      const store = new SqliteStore({ path });
      await store.start();
      opened.push(store);
      return store;
    },
    async dispose() {
      for (const store of opened) await store.close();
    },
  };
};

runStoreContract('sqlite', factory);
runSharedStoreContract('sqlite', factory);
test('sqlite: WAL, schema_version recorded, reopening migrates nothing, newer schema refused', async () => {
  const path = join(dir, 'meta.db');
  await new SqliteStore({ path, synchronous: 'full' }).close();
  await new SqliteStore({ path }).close();
  const db = new DatabaseSync(path);
  assert.equal(
    (db.prepare('PRAGMA journal_mode').get() as { journal_mode: string }).journal_mode,
    'wal',
  );
  const versions = db.prepare('SELECT version FROM schema_version').all();
  assert.equal(versions.length, MIGRATIONS.length);
  db.prepare('INSERT INTO schema_version (version, applied_at) VALUES (?, 0)').run(
    MIGRATIONS.length + 1,
  );
  db.close();
  assert.throws(() => new SqliteStore({ path }), {
    code: 'CTRL_STORE',
    message: /newer than this keepwire/,
  });
});

test('sqlite: migration 3 records each request and clears claims from before leases', async () => {
  const path = join(dir, 'v2.db');
  const db = new DatabaseSync(path);
  db.exec('CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)');
  for (const [i, sql] of MIGRATIONS.slice(0, 2).entries()) {
    db.exec(sql);
    db.prepare('INSERT INTO schema_version VALUES (?, 0)').run(i + 1);
  }
  const insert = db.prepare(`INSERT INTO commands (id, request_id, fingerprint, source, target_type,
    target_id, action, args, action_version, timeout_s, status, created_at, deadline_at, claim)
    VALUES (?, ?, 'fp', 's', 'component', 'fw', 'ping', '{}', '1', 60, 'pending', 1, ?, ?)`);
  insert.run('c1', 'r1', 10 ** 13, 'old-claim');
  insert.run('c2', 'r1', 10 ** 13, null);
  db.close();
  const store = new SqliteStore({ path });
  try {
    assert.equal((await store.findRequest('r1'))?.fingerprint, 'fp');
    assert.equal((await store.findRequest('r1'))?.commands.length, 2);
    const holder = { token: 't', owner: 'n', leaseUntil: 10 };
    const claimed = await store.claim({ type: 'component', id: 'fw' }, holder, 10, 1);
    assert.equal(claimed.length, 2, 'the claim left by the old run is gone');
  } finally {
    await store.close();
  }
});
