/**
 * Clients that go away mid-body cannot flood the log: each one is counted
 * (keepwire_listener_client_aborts_total), at most one line is logged per
 * minute, and never a stack.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { makeDataDir } from '../support/keepwire-process.ts';
import { connected, listenerAddress, openSocket, waitFor } from '../support/raw-socket.ts';
import { startShipServe, writeShipConfig } from '../support/ship-serve.ts';

const CLIENTS = 20;

test('20 clients leaving mid-body: 20 counted, one log line, no stack', async () => {
  const dataDir = makeDataDir();
  const server = await startShipServe(dataDir, writeShipConfig(dataDir, { type: 'blackhole' }));
  try {
    const events = listenerAddress(dataDir, 'events');
    for (let i = 0; i < CLIENTS; i++) {
      const client = openSocket(events);
      await connected(client.socket);
      client.socket.write(
        'POST /v1/events HTTP/1.1\r\nhost: x\r\ncontent-length: 1000\r\n\r\n{"half":',
      );
      client.socket.destroy();
      await client.closed;
      await waitFor('the abort to be counted', async () => {
        return (await server.metric('keepwire_listener_client_aborts_total')) === i + 1;
      });
    }
    const stderr = server.stderr();
    assert.equal(stderr.match(/went away before its request was read whole/g)?.length, 1, stderr);
    assert.doesNotMatch(stderr, /\n\s+at /, 'no stack');
    assert.doesNotMatch(stderr, /"level":50/, 'nothing logged as an error');
  } finally {
    assert.equal(await server.stop(), 0);
  }
});
