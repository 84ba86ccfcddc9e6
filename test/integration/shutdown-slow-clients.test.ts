/**
 * SIGTERM with 50 slow clients connected: `keepwire serve` exits within its
 * grace period (their connections are cut when it ends), and a request that
 * completes during shutdown is either stored and answered 200 or refused
 * with 503, never answered 500 with its event lost.
 */
import assert from 'node:assert/strict';
import { appendFileSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
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

const SLOW = 50;
const GRACE_MS = 1_000;

function isRefused(address: { host: string; port: number }): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = connect(address.port, address.host);
    probe.once('connect', () => {
      probe.destroy();
      resolve(false);
    });
    probe.once('error', () => resolve(true));
  });
}
const LINE = '{"finished":"during shutdown"}\n';

test('SIGTERM with 50 slow clients: exits within the grace period, nothing answered 500', async () => {
  const dataDir = makeDataDir();
  // Slow clients are never cut by the request timeout here: only the shutdown can end them.
  const config = writeShipConfig(dataDir, { type: 'file' }, { requestTimeoutMs: 600_000 });
  appendFileSync(config, `shutdownGraceMs: ${GRACE_MS}\n`);
  const server = await startShipServe(dataDir, config);
  const slow: OpenSocket[] = [];
  try {
    const events = listenerAddress(dataDir, 'events');
    for (let i = 0; i < SLOW; i++) {
      const client = openSocket(events);
      slow.push(client);
      await connected(client.socket);
      client.socket.write(
        `POST /v1/events HTTP/1.1\r\nhost: x\r\ncontent-length: ${LINE.length}\r\n\r\n{`,
      );
    }
    const exited = new Promise<number | null>((resolve) =>
      server.child.once('exit', (code) => resolve(code)),
    );
    // Requests the server has begun reading: the stop must wait for them, then cut.
    server.child.kill('SIGTERM');
    await waitFor('the listener to stop accepting', () => isRefused(events));
    // One slow client completes its body while the server shuts down.
    const finisher = slow[0]!;
    finisher.socket.write(LINE.slice(1));
    const answer = await finisher.closed;
    // Bounded far above the grace period: without the cut it would wait for the clients forever.
    const outcome = await Promise.race([
      exited,
      sleep(30 * GRACE_MS, undefined, { ref: false }).then(() => 'still running'),
    ]);
    assert.equal(outcome, 0);
    // The others never finished: the server cut them, it did not wait for them.
    await Promise.all(slow.map((client) => client.closed));
    const status = /^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1];
    assert.notEqual(status, '500', answer);
    if (status === '200') {
      const stored = readFileSync(join(dataDir, 'out', 'events.ndjson'), 'utf8');
      assert.equal(stored, LINE, 'a 200 means stored');
    } else assert.ok(status === '503' || status === undefined, `refused, not lost: ${answer}`);
    assert.doesNotMatch(server.stderr(), /"level":50/, server.stderr());
  } finally {
    for (const client of slow) client.socket.destroy();
    await server.stop('SIGKILL');
  }
});
