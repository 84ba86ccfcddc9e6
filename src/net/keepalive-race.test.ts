/**
 * The stale keep-alive race against a real nginx with `keepalive_timeout
 * 1s` and no `Keep-Alive` hint, so our idle timeout (4 s default) is longer
 * than the server's and nginx closes first: 1,000 requests, each loop
 * pausing 0.85-1.15 s between requests, right around the server's timeout.
 * Every request must be delivered: a socket closed by the peer while idle
 * is dropped on its FIN, and a request that loses the race with the FIN is
 * resent once on a fresh connection. 25 loops x 40 requests, ~40 s.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Nginx } from '../../test/support/nginx.ts';
import { post, testPool } from './pool-test-harness.ts';

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
  const pool = testPool(server.url, { connections: LOOPS });
  const failures: string[] = [];
  const loop = async (): Promise<void> => {
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
  await Promise.all(Array.from({ length: LOOPS }, loop));
  assert.deepEqual(failures, []);
  // A resent request may have reached nginx the first time too (at-least-once).
  const served = server.accessLog().filter((line) => line.status === 204).length;
  assert.ok(
    served >= LOOPS * REQUESTS_PER_LOOP && served <= LOOPS * REQUESTS_PER_LOOP + pool.staleResends,
  );
  const ledger = pool.ledger.snapshot();
  t.diagnostic(`stale resends ${pool.staleResends}; ledger ${JSON.stringify(ledger)}`);
  // nginx closed many idle sockets first: each was seen as peer_closed, none lingered.
  assert.ok(ledger.closed.peer_closed > 0);
  assert.equal(ledger.closed.error, 0);
  await pool.close();
  assert.equal(pool.ledger.snapshot().open, 0);
});
