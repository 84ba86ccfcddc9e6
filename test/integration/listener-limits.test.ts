/**
 * Limits a user sets and sees, on a real `keepwire serve`: a connection cap
 * per listener (over it a new connection is closed at once and counted) and
 * a request timeout that holds for a slow body (a slowloris sender is cut
 * within about requestTimeoutMs, not twice that).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { makeDataDir } from '../support/keepwire-process.ts';
import {
  connected,
  listenerAddress,
  type OpenSocket,
  openSocket,
  waitFor,
} from '../support/raw-socket.ts';
import { startShipServe, writeShipConfig } from '../support/ship-serve.ts';

test('maxConnections: over the cap a new connection is closed at once and counted', async () => {
  const dataDir = makeDataDir();
  const config = writeShipConfig(dataDir, { type: 'blackhole' }, { maxConnections: 5 });
  const server = await startShipServe(dataDir, config);
  const held: OpenSocket[] = [];
  try {
    const events = listenerAddress(dataDir, 'events');
    for (let i = 0; i < 5; i++) held.push(openSocket(events));
    await Promise.all(held.map((open) => connected(open.socket)));
    // Accepted in the order they arrived: the sixth is the one over the cap.
    const over = openSocket(events);
    over.socket.write('POST /v1/events HTTP/1.1\r\nhost: x\r\ncontent-length: 8\r\n\r\n{"a":1}\n');
    assert.equal(await over.closed, '', 'closed without an answer');
    assert.ok(
      held.every((open) => !open.socket.destroyed),
      'the five held stay open',
    );
    assert.ok(
      (await server.metric(
        'keepwire_listener_connections_refused_total',
        'listener="events",reason="max_connections"',
      )) >= 1,
    );
    for (const open of held) open.socket.destroy();
    await Promise.all(held.map((open) => open.closed));
    // The server sees the five leave a moment after they closed here: wait for it.
    await waitFor('the listener to accept again', async () => {
      try {
        const after = await fetch(`${server.eventsUrl}/v1/events`, {
          method: 'POST',
          body: '{"a":1}\n',
        });
        return after.status === 200;
      } catch {
        return false;
      }
    });
  } finally {
    for (const open of held) open.socket.destroy();
    assert.equal(await server.stop(), 0);
  }
});

test('a slow body is cut at requestTimeoutMs, not at twice it', async () => {
  const dataDir = makeDataDir();
  const timeoutMs = 1_000;
  const config = writeShipConfig(dataDir, { type: 'blackhole' }, { requestTimeoutMs: timeoutMs });
  const server = await startShipServe(dataDir, config);
  try {
    const slow = openSocket(listenerAddress(dataDir, 'events'));
    await connected(slow.socket);
    slow.socket.write('POST /v1/events HTTP/1.1\r\nhost: x\r\ncontent-length: 100000\r\n\r\n');
    // One byte every 100 ms, for up to 4 timeouts; the server must close first.
    const dripMs = 100;
    const budget = (4 * timeoutMs) / dripMs;
    let sent = 0;
    let isClosed = false;
    const closed = slow.closed.then((answer) => {
      isClosed = true;
      return answer;
    });
    while (!isClosed && sent < budget) {
      slow.socket.write('{');
      sent += 1;
      await sleep(dripMs);
    }
    assert.ok(isClosed, 'the server closed the slow request');
    const answer = await closed;
    assert.match(answer, /^HTTP\/1\.1 408 /, 'answered 408 Request Timeout');
    // Node's default check every 30 s let such a body live up to twice the timeout.
    assert.ok(sent < (2 * timeoutMs) / dripMs, `cut after ${sent} drips of ${dripMs} ms`);
  } finally {
    assert.equal(await server.stop(), 0);
  }
});
