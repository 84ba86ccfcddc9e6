/**
 * The stale keep-alive race against a real nginx with `keepalive_timeout
 * 1s` and no `Keep-Alive` hint, so our idle timeout (4 s default) is longer
 * than the server's and nginx closes first: 1,000 requests, each loop
 * pausing 0.85-1.15 s between requests, right around the server's timeout.
 * Every request must be delivered: a socket closed by the peer while idle
 * is dropped on its FIN, and a request that loses the race with the FIN is
 * resent once on a fresh connection. 25 loops x 40 requests, ~40 s. Each
 * loop has its own one-connection pool, so every connection really sits
 * idle for about the server's timeout between two requests (one shared
 * pool would keep its first connections busy and hide the race).
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Nginx } from '../../test/support/nginx.ts';
import { post, testPool } from './pool-test-harness.ts';
import type { SinkPool } from './sink-pool.ts';

const LOOPS = 25;
const REQUESTS_PER_LOOP = 40;

let server: Nginx | undefined;
after(async () => {
  await server?.dispose();
});

test('1,000 requests spaced around nginx keepalive_timeout 1s: zero failed deliveries', {
  timeout: 90_000,
}, async (t) => {
  server = await Nginx.start({ keepaliveTimeout: '1s' });
  const pools = Array.from({ length: LOOPS }, () => testPool(server!.url, { connections: 1 }));
  const failures: string[] = [];
  const loop = async (pool: SinkPool): Promise<void> => {
    for (let index = 0; index < REQUESTS_PER_LOOP; index += 1) {
      try {
        const status = await post(pool);
        if (status !== 204) failures.push(`status ${status}`);
      } catch (error) {
        failures.push(`${(error as { code?: string }).code}: ${(error as Error).message}`);
      }
      await sleep(850 + Math.random() * 300);
    }
  };
  await Promise.all(pools.map(loop));
  assert.deepEqual(failures, []);
  const staleResends = pools.reduce((sum, pool) => sum + pool.staleResends, 0);
  // A resent request may have reached nginx the first time too (at-least-once).
  const served = server.accessLog().filter((line) => line.status === 204).length;
  assert.ok(
    served >= LOOPS * REQUESTS_PER_LOOP && served <= LOOPS * REQUESTS_PER_LOOP + staleResends,
  );
  const ledgers = pools.map((pool) => pool.ledger.snapshot());
  const sum = (pick: (ledger: (typeof ledgers)[number]) => number) =>
    ledgers.reduce((total, l) => total + pick(l), 0);
  t.diagnostic(
    `stale resends ${staleResends}; connections opened ${sum((l) => l.opened)}, peer_closed ${sum((l) => l.closed.peer_closed)}, errors ${sum((l) => l.closed.error)}`,
  );
  // nginx closed many idle sockets first: each was seen as peer_closed, none lingered.
  assert.ok(sum((l) => l.closed.peer_closed) > LOOPS);
  await Promise.all(pools.map((pool) => pool.close()));
  assert.equal(
    pools.reduce((total, pool) => total + pool.ledger.snapshot().open, 0),
    0,
  );
});
