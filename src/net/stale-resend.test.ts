/**
 * The resend rule, made deterministic with a raw TCP peer: it answers the
 * first request on a connection with keep-alive, then closes the socket as
 * the second request arrives, before any response byte. The request must
 * succeed by one resend on a fresh connection, counted, not failed.
 */
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { test } from 'node:test';
import { post, testPool } from './pool-test-harness.ts';

const RESPONSE = 'HTTP/1.1 204 No Content\r\nConnection: keep-alive\r\n\r\n';

test('a request that dies on a reused socket before any response byte is resent once on a fresh connection', async () => {
  let connections = 0;
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    connections += 1;
    sockets.add(socket);
    let requests = 0;
    socket.on('data', (chunk) => {
      // One request per chunk is enough here: small bodies, one in flight.
      if (!chunk.includes('\r\n\r\n')) return;
      requests += 1;
      if (requests === 2 && connections === 1) socket.destroy();
      else socket.write(RESPONSE);
    });
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  const pool = testPool(`http://127.0.0.1:${port}`, { connections: 1 });
  try {
    assert.equal(await post(pool), 204);
    assert.equal(await post(pool), 204);
    assert.equal(pool.staleResends, 1);
    assert.equal(connections, 2);
    const ledger = pool.ledger.snapshot();
    assert.equal(ledger.opened, 2);
    assert.equal(ledger.closed.peer_closed, 1);
  } finally {
    await pool.close();
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  }
});

test('a refused connection is not resent: it is an outage for the driver to back off from', async () => {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  const pool = testPool(`http://127.0.0.1:${port}`, { connections: 1 });
  await assert.rejects(post(pool), { code: 'ECONNREFUSED' });
  assert.equal(pool.staleResends, 0);
  await pool.close();
});
