import assert from 'node:assert/strict';
import { test } from 'node:test';
import pg from 'pg';
import { createTestDatabase } from '../../../../test/support/postgres.ts';
import { storeSchema } from '../../../config/store.ts';
import { runStoreContract } from '../contract.ts';
import { runSharedStoreContract } from '../contract-shared.ts';
import type { StoreFactory } from '../contract-support.ts';
import type { Store } from '../store.ts';
import { MIGRATIONS } from './migrations.ts';
import { PostgresStore } from './postgres-store.ts';

function config(url: string) {
  const parsed = storeSchema.parse({ url });
  assert.equal(parsed.type, 'postgres');
  return parsed as Extract<typeof parsed, { type: 'postgres' }>;
}

/** A database of its own per case; each instance is another pool, as another node has. */
const factory: StoreFactory = async () => {
  const database = await createTestDatabase();
  const opened: Store[] = [];
  return {
    async open(nodeId = 'node-a') {
      const store = new PostgresStore({ config: config(database.url), nodeId });
      opened.push(store);
      await store.start(() => {});
      return store;
    },
    async dispose() {
      for (const store of opened) await store.close().catch(() => {});
      await database.drop();
    },
  };
};

runStoreContract('postgres', factory);
runSharedStoreContract('postgres', factory);

test('postgres: nodes starting at once migrate once; a newer schema is refused', async () => {
  const database = await createTestDatabase();
  try {
    const stores = [0, 1, 2].map(
      (i) => new PostgresStore({ config: config(database.url), nodeId: `n${i}` }),
    );
    await Promise.all(stores.map((s) => s.start(() => {})));
    await Promise.all(stores.map((s) => s.close()));
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    const { rows } = await client.query('SELECT version FROM schema_version');
    assert.equal(rows.length, MIGRATIONS.length);
    await client.query('INSERT INTO schema_version VALUES ($1, 0)', [MIGRATIONS.length + 1]);
    await client.end();
    const newer = new PostgresStore({ config: config(database.url), nodeId: 'n' });
    await assert.rejects(
      newer.start(() => {}),
      {
        code: 'CTRL_STORE',
        message: /newer than this keepwire/,
      },
    );
    await newer.close();
  } finally {
    await database.drop();
  }
});

test('postgres: a create on one node wakes the other through NOTIFY, not itself', async () => {
  const database = await createTestDatabase();
  const heard: { a: string[]; b: string[] } = { a: [], b: [] };
  const a = new PostgresStore({ config: config(database.url), nodeId: 'a' });
  const b = new PostgresStore({ config: config(database.url), nodeId: 'b' });
  try {
    await a.start((keys) => heard.a.push(...keys));
    let wake!: () => void;
    const woken = new Promise<void>((resolve) => {
      wake = resolve;
    });
    await b.start((keys) => {
      heard.b.push(...keys);
      if (heard.b.length >= 3) wake();
    });
    const members = Array.from({ length: 3 }, (_, i) => `agent-${i}`);
    for (const id of members)
      await a.enrolAgent({ id, name: id, tokenHash: `h-${id}`, groups: [] }, 0);
    const now = Date.now();
    const commands = members.map((id) => ({
      id: `c-${id}`,
      requestId: `r-${id}`,
      source: 't',
      user: null,
      target: { type: 'agent' as const, id },
      group: null,
      action: { name: 'ping', args: {}, version: '1' },
      timeoutS: 60,
      status: 'pending' as const,
      result: null,
      createdAt: new Date(now).toISOString(),
      deadlineAt: new Date(now + 60_000).toISOString(),
      sentAt: null,
      finishedAt: null,
    }));
    await a.insertCommands(
      commands.map((c) => ({ requestId: c.requestId, fingerprint: 'f', commands: [c] })),
      now,
    );
    await woken;
    assert.deepEqual(heard.b.sort(), members.map((id) => `agent:${id}`).sort());
    assert.deepEqual(heard.a, [], 'a node does not hear its own notifications');
  } finally {
    await a.close();
    await b.close();
    await database.drop();
  }
});
