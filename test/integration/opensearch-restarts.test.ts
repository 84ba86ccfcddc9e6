/**
 * Connection hygiene of the opensearch sink in `keepwire serve`: two `_bulk`
 * test nodes are restarted (every socket closed, back on the same port)
 * while events flow. Every event is indexed exactly once, neither node ever
 * holds more connections from the sink than its concurrency, the ledger
 * counts every connection the nodes accepted, and 1 s after a restart no
 * socket of the serve process is left in CLOSE-WAIT (`ss -p`).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startBulkCluster } from '../support/bulk/index.ts';
import { closeWaitOwnedBy } from '../support/close-wait.ts';
import { makeDataDir, startShipServe, waitFor, writeShipConfig } from '../support/ship-serve.ts';

const TOTAL = 20_000;
const PER_REQUEST = 500;
const RESTARTS = 6;
const CONCURRENCY = 2;

function lines(from: number, to: number): string {
  let body = '';
  for (let seq = from; seq < to; seq += 1) {
    body += `{"@timestamp":"2024-05-06T10:00:00Z","event":{"id":"tx-${seq}"},"seq":${seq},"msg":"${'m'.repeat(60)}"}\n`;
  }
  return body;
}

test('nodes restarted mid-run: each event indexed once, connections within concurrency, no CLOSE-WAIT', {
  timeout: 120_000,
}, async () => {
  const { cluster, nodes, urls, close } = await startBulkCluster({ nodes: 2 });
  const dataDir = makeDataDir('kw-os-restarts-');
  const serve = await startShipServe(
    dataDir,
    writeShipConfig(dataDir, {
      type: 'opensearch',
      endpoints: urls,
      index: 'restarts-%Y.%m.%d',
      concurrency: CONCURRENCY,
      batch: { maxEvents: 250, lingerMs: 5 },
      retry: { initialBackoffMs: 20, maxBackoffMs: 200 },
      health: { initialProbeBackoffMs: 100, maxProbeBackoffMs: 400 },
    }),
  );
  try {
    const requests = TOTAL / PER_REQUEST;
    const every = Math.floor(requests / RESTARTS);
    let restarts = 0;
    for (let request = 0; request < requests; request += 1) {
      const response = await fetch(`${serve.eventsUrl}/v1/events`, {
        method: 'POST',
        body: lines(request * PER_REQUEST, (request + 1) * PER_REQUEST),
      });
      assert.equal(response.status, 200);
      if (request % every === every - 1 && restarts < RESTARTS) {
        await nodes[restarts % 2]!.restart();
        restarts += 1;
      }
    }
    await waitFor(() => cluster.documentCount === TOTAL, 60_000, `all ${TOTAL} documents indexed`);
    const seen = new Set<number>();
    for (const [, id, source] of cluster.documents()) {
      assert.equal(id, `tx-${source.seq}`);
      seen.add(source.seq as number);
    }
    assert.equal(seen.size, TOTAL, 'each event once');
    for (const node of nodes)
      assert.ok(node.maxOpen <= CONCURRENCY, `${node.name}: ${node.maxOpen} connections at once`);
    const accepted = () => nodes.reduce((sum, node) => sum + node.accepted, 0);
    // The ledger sees every socket the sink opened; a node sees one fewer for
    // each connection its kernel completed while its listener was closing.
    const opened = await serve.metric('keepwire_connections_opened_total', 'sink="out"');
    const closed = await serve.metric('keepwire_connections_closed_total', 'sink="out"');
    assert.ok(
      opened >= accepted() && opened - accepted() <= RESTARTS * CONCURRENCY,
      `ledger ${opened} opened, nodes accepted ${accepted()}`,
    );
    assert.ok(opened - closed <= CONCURRENCY * nodes.length, `${opened - closed} open`);
    assert.ok(accepted() > RESTARTS, 'restarts made the sink reconnect');
    const peerClosed = await serve.metric(
      'keepwire_connections_closed_total',
      'reason="peer_closed"',
    );
    assert.ok(peerClosed >= RESTARTS, `${peerClosed} connections closed by a restarting node`);
    // Idle pooled sockets whose peer went away must be closed by us within a second.
    for (const node of nodes) await node.restart();
    await sleep(1_000);
    assert.deepEqual(closeWaitOwnedBy(serve.pid), []);
    assert.equal(await serve.metric('keepwire_sink_events_dead_lettered_total', 'sink="out"'), 0);
  } finally {
    await serve.stop();
    await close();
  }
});
