/**
 * The ship plane inside a real `keepwire serve`: the embedded default (http
 * source -> disk buffer -> file sink under DATA_DIR/out/), and the unix and
 * file sources feeding an http sink across a restart.
 */
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { stringify } from 'yaml';
import { startCountingServer } from '../support/counting-server.ts';
import { startServe } from '../support/keepwire-process.ts';
import { makeDataDir, seqLines, startShipServe, waitFor } from '../support/ship-serve.ts';

test('the embedded default takes events on the http source and writes them to DATA_DIR/out/', async () => {
  const serve = await startServe();
  try {
    const address = readFileSync(join(serve.dataDir, 'events.addr'), 'utf8').trim();
    const response = await fetch(`http://${address}/v1/events`, {
      method: 'POST',
      body: '{"hello":"world"}\n',
    });
    assert.equal(response.status, 200);
    const out = join(serve.dataDir, 'out', 'events.ndjson');
    await waitFor(
      () => existsSync(out) && readFileSync(out, 'utf8').includes('{"hello":"world"}'),
      10_000,
      'the file sink',
    );
    assert.ok(statSync(join(serve.dataDir, 'buffers', 'out', 'ledger')).isFile());
  } finally {
    assert.equal(await serve.stop(), 0);
  }
});

test('unix and file sources feed an http sink; a restart neither skips nor re-reads the file', async () => {
  const collector = await startCountingServer();
  const dataDir = makeDataDir('kw-sources-');
  const log = join(dataDir, 'audit.log');
  writeFileSync(log, seqLines(0, 100));
  const config = join(dataDir, 'keepwire.yaml');
  writeFileSync(
    config,
    stringify({
      watch: { enabled: false },
      pipeline: {
        sources: {
          events: { type: 'http', listen: '127.0.0.1:0' },
          local: { type: 'unix', path: 'events.sock' },
          tail: { type: 'file', include: [join(dataDir, '*.log')], pollIntervalMs: 50 },
        },
        sinks: { out: { type: 'http', url: collector.url, batch: { lingerMs: 10 } } },
        routes: { events: ['out'], local: ['out'], tail: ['out'] },
      },
    }),
  );
  let serve = await startShipServe(dataDir, config);
  try {
    const socketPath = join(dataDir, 'events.sock');
    assert.equal(statSync(socketPath).mode & 0o777, 0o660);
    await new Promise<void>((resolve, reject) => {
      const client = connect(socketPath, () => client.end(`${seqLines(1000, 1050)}not json\n`));
      client.on('close', () => resolve());
      client.on('error', reject);
    });
    await waitFor(() => collector.seen.size === 150, 10_000, 'file and unix events');
    assert.equal(
      await serve.metric('keepwire_pipeline_events_rejected_total', 'reason="invalid"'),
      1,
    );
    assert.equal(await serve.stop(), 0);

    appendFileSync(log, seqLines(100, 120));
    serve = await startShipServe(dataDir, config);
    await waitFor(() => collector.seen.size === 170, 10_000, 'lines appended while stopped');
    for (const [seq, count] of collector.seen)
      assert.equal(count, 1, `seq ${seq} delivered ${count} times`);
  } finally {
    await serve.stop();
    await collector.close();
  }
});
