import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, test } from 'node:test';
import { runStoreContract } from '../contract.ts';
import { MIGRATIONS } from './migrations.ts';
import { SqliteStore } from './sqlite-store.ts';

const dir = mkdtempSync(join(tmpdir(), 'kw-store-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let count = 0;

runStoreContract('sqlite', async () => new SqliteStore({ path: join(dir, `s${count++}.db`) }));

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
