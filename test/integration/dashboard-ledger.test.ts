/**
 * GET /v1/ledger and GET /v1/pipeline against a real http sink: a serve
 * shipping to a local collector reports the connections its pool opened
 * (equal to what the collector accepted) and the events it delivered.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type CountingServer, startCountingServer } from '../support/counting-server.ts';
import { makeDataDir } from '../support/keepwire-process.ts';
import { type ShipServe, startShipServe, writeShipConfig } from '../support/ship-serve.ts';

let collector: CountingServer;
let serve: ShipServe;
before(async () => {
  collector = await startCountingServer();
  const dataDir = makeDataDir('kw-dash-ledger-');
  serve = await startShipServe(
    dataDir,
    writeShipConfig(dataDir, {
      type: 'http',
      url: `${collector.url}/ingest`,
      batch: { lingerMs: 10 },
    }),
  );
});
after(async () => {
  await serve.stop();
  await collector.close();
});

async function get(path: string) {
  const response = await fetch(`${serve.adminUrl}${path}`, {
    headers: { authorization: `Bearer ${serve.adminToken}` },
  });
  assert.equal(response.status, 200, path);
  // biome-ignore lint/suspicious/noExplicitAny: JSON answers, checked field by field
  return (await response.json()) as any;
}

test('the ledger counts the sink pool connections the collector saw; the pipeline the events', async () => {
  for (let i = 0; i < 3; i++) {
    const posted = await fetch(`${serve.eventsUrl}/v1/events`, {
      method: 'POST',
      body: `{"seq":${2 * i}}\n{"seq":${2 * i + 1}}\n`,
    });
    assert.equal(posted.status, 200);
  }
  const deadline = Date.now() + 15_000;
  let pipeline = await get('/v1/pipeline');
  while (pipeline.sinks.find((s: { sink: string }) => s.sink === 'out')?.sent !== 6) {
    assert.ok(Date.now() < deadline, JSON.stringify(pipeline));
    await sleep(50);
    pipeline = await get('/v1/pipeline');
  }
  assert.equal(collector.events, 6);
  const ledger = await get('/v1/ledger');
  const out = ledger.sinks.find((s: { sink: string }) => s.sink === 'out');
  assert.ok(out, JSON.stringify(ledger));
  assert.equal(out.opened, collector.connections());
  assert.ok(out.opened >= 1);
  assert.equal(out.requests, collector.requests);
  assert.equal(out.reused, collector.requests - out.opened);
  const closed = Object.values(out.closed as Record<string, number>).reduce((a, b) => a + b, 0);
  assert.equal(out.open, out.opened - closed);
  assert.deepEqual(Object.keys(out.closed).sort(), [
    'error',
    'idle_timeout',
    'max_lifetime',
    'max_uses',
    'peer_closed',
    'shutdown',
  ]);
  const source = pipeline.sources.find((s: { source: string }) => s.source === 'events');
  assert.equal(source.received, 6);
});
