/**
 * Connection hygiene against a real nginx (see docs/net.md): FIN on idle
 * sockets, idle timeouts below the server's, rotation by keepalive_requests,
 * reloads, max uses and lifetime, TCP keepalive probes, and the ledger.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Nginx } from '../../test/support/nginx.ts';
import { ownSockets, post, testPool } from './pool-test-harness.ts';

const started: Nginx[] = [];
async function nginx(options: Parameters<typeof Nginx.start>[0]): Promise<Nginx> {
  const server = await Nginx.start(options);
  started.push(server);
  return server;
}
after(async () => {
  await Promise.all(started.map((server) => server.dispose()));
});

describe('SinkPool against nginx', () => {
  test('nginx stopped while connections are idle: no CLOSE-WAIT after 1 s, every close counted as peer_closed', async () => {
    const server = await nginx({});
    const pool = testPool(server.url, { connections: 4 });
    const statuses = await Promise.all(Array.from({ length: 16 }, () => post(pool)));
    assert.deepEqual(new Set(statuses), new Set([204]));
    const opened = pool.ledger.snapshot().opened;
    assert.ok(opened >= 1 && opened <= 4, `opened ${opened}`);
    assert.equal(ownSockets('established', server.port).length, opened);
    await server.stop();
    await sleep(1_000);
    assert.deepEqual(ownSockets('close-wait', server.port), []);
    const ledger = pool.ledger.snapshot();
    assert.equal(ledger.closed.peer_closed, opened);
    assert.equal(ledger.open, 0);
    await pool.close();
  });

  test('nginx restarted 5 times between bursts: every request delivered, no CLOSE-WAIT', async () => {
    const server = await nginx({});
    const pool = testPool(server.url, { connections: 4 });
    for (let restart = 0; restart < 5; restart += 1) {
      const statuses = await Promise.all(Array.from({ length: 8 }, () => post(pool)));
      assert.deepEqual(new Set(statuses), new Set([204]));
      await server.restart();
    }
    assert.equal(await post(pool), 204);
    await sleep(300);
    assert.deepEqual(ownSockets('close-wait', server.port), []);
    assert.equal(server.accessLog().length, 41);
    const ledger = pool.ledger.snapshot();
    assert.equal(ledger.closed.error, 0);
    // nginx numbers connections afresh after each restart: bound ours instead.
    assert.ok(ledger.opened >= 6 && ledger.opened <= 6 * 4, `opened ${ledger.opened}`);
    assert.equal(ledger.closed.peer_closed, ledger.opened - ledger.open);
    await pool.close();
  });

  test('learns Keep-Alive: timeout=N and closes first, N minus the margin', async () => {
    const server = await nginx({ keepaliveTimeout: '2s 2s' });
    const pool = testPool(server.url, { connections: 1, hintMarginMs: 500, idleTimeoutMs: 60_000 });
    assert.equal(await post(pool), 204);
    await sleep(1_000);
    assert.equal(pool.ledger.snapshot().open, 1, 'still open before 1.5 s');
    await sleep(900);
    const ledger = pool.ledger.snapshot();
    assert.equal(ledger.closed.idle_timeout, 1);
    assert.equal(ledger.closed.peer_closed, 0);
    await pool.close();
  });

  test('without a hint the configured idle timeout applies', async () => {
    const server = await nginx({ keepaliveTimeout: '30s' });
    const pool = testPool(server.url, { connections: 1, idleTimeoutMs: 300 });
    assert.equal(await post(pool), 204);
    await sleep(700);
    assert.equal(pool.ledger.snapshot().closed.idle_timeout, 1);
    await pool.close();
  });

  test('keepalive_requests 100 and three reloads mid-run: connections rotate, nothing lost', async () => {
    const server = await nginx({ keepaliveRequests: 100 });
    const pool = testPool(server.url, { connections: 4 });
    let sent = 0;
    let failed = 0;
    const loop = async (): Promise<void> => {
      while (sent < 1_200) {
        sent += 1;
        try {
          if ((await post(pool)) !== 204) failed += 1;
        } catch {
          failed += 1;
        }
      }
    };
    const loops = Promise.all([loop(), loop(), loop(), loop()]);
    for (let reload = 0; reload < 3; reload += 1) {
      await sleep(150);
      await server.reload();
    }
    await loops;
    assert.equal(failed, 0);
    const log = server.accessLog();
    assert.equal(log.length, 1_200);
    assert.ok(log.every((line) => line.status === 204 && line.connectionRequests <= 100));
    const ledger = pool.ledger.snapshot();
    assert.ok(ledger.opened >= 12, `rotated: ${ledger.opened} connections`);
    assert.equal(ledger.opened, server.connectionCount());
    await pool.close();
    const closed = pool.ledger.snapshot();
    assert.equal(closed.open, 0);
    assert.ok(closed.closed.peer_closed >= 11, JSON.stringify(closed.closed));
    assert.equal(closed.closed.error, 0);
  });

  test('maxUsesPerConnection replaces a connection after N requests', async () => {
    const server = await nginx({});
    const pool = testPool(server.url, { connections: 1, maxUsesPerConnection: 10 });
    for (let index = 0; index < 95; index += 1) assert.equal(await post(pool), 204);
    const log = server.accessLog();
    assert.equal(Math.max(...log.map((line) => line.connectionRequests)), 10);
    assert.equal(server.connectionCount(), 10);
    assert.equal(pool.ledger.snapshot().closed.max_uses, 9);
    await pool.close();
    assert.equal(pool.ledger.snapshot().closed.shutdown, 1);
  });

  test('maxUsesPerConnection 1 uses each connection once', async () => {
    const server = await nginx({});
    const pool = testPool(server.url, { connections: 1, maxUsesPerConnection: 1 });
    for (let index = 0; index < 5; index += 1) assert.equal(await post(pool), 204);
    await sleep(50);
    assert.equal(server.connectionCount(), 5);
    assert.equal(pool.ledger.snapshot().closed.max_uses, 5);
    await pool.close();
  });

  test('maxLifetimeMs retires connections by age', async () => {
    const server = await nginx({});
    const pool = testPool(server.url, { connections: 1, maxLifetimeMs: 300 });
    const until = Date.now() + 1_300;
    while (Date.now() < until) {
      assert.equal(await post(pool), 204);
      await sleep(50);
    }
    await sleep(50);
    const ledger = pool.ledger.snapshot();
    assert.ok(ledger.closed.max_lifetime >= 3, JSON.stringify(ledger.closed));
    assert.equal(ledger.opened, server.connectionCount());
    await pool.close();
  });

  test('TCP keepalive probes are on for pooled sockets', async () => {
    const server = await nginx({});
    const pool = testPool(server.url, { connections: 1, keepAliveProbeMs: 7_000 });
    assert.equal(await post(pool), 204);
    const sockets = ownSockets('established', server.port);
    assert.equal(sockets.length, 1);
    assert.match(sockets[0]!, /timer:\(keepalive,/);
    await pool.close();
    assert.equal(pool.ledger.snapshot().closed.shutdown, 1);
  });
});
