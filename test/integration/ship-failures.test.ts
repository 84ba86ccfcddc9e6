/**
 * Reliability against a real `keepwire serve` and a real collector process
 * (in-test HTTP server): a sink answering 500 for a while (the buffer grows,
 * then drains), a sink answering 400 (dead-letter file, the pipeline goes
 * on), a full buffer (503 + Retry-After, nothing accepted lost), and
 * malformed input (a clear 4xx, never a crash).
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { startCountingServer } from '../support/counting-server.ts';
import {
  makeDataDir,
  seqLines,
  startShipServe,
  waitFor,
  writeShipConfig,
} from '../support/ship-serve.ts';

const fastRetry = { initialBackoffMs: 20, maxBackoffMs: 200 };

test('a sink answering 500 for a while: the buffer grows, then drains with nothing lost', async () => {
  const collector = await startCountingServer();
  collector.status = 500;
  const dataDir = makeDataDir('kw-500-');
  const serve = await startShipServe(
    dataDir,
    writeShipConfig(dataDir, {
      type: 'http',
      url: collector.url,
      retry: fastRetry,
      batch: { maxEvents: 100 },
    }),
  );
  try {
    for (let i = 0; i < 10; i++) {
      const response = await fetch(`${serve.eventsUrl}/v1/events`, {
        method: 'POST',
        body: seqLines(i * 200, (i + 1) * 200),
      });
      assert.equal(response.status, 200);
    }
    await waitFor(() => collector.requests >= 3, 10_000, 'retries against the failing sink');
    assert.equal(await serve.metric('keepwire_pipeline_buffer_events'), 2000);
    collector.status = 200;
    await waitFor(() => collector.seen.size === 2000, 20_000, 'the buffer to drain');
    await waitFor(
      async () => (await serve.metric('keepwire_pipeline_buffer_events')) === 0,
      5_000,
      'an empty buffer',
    );
  } finally {
    await serve.stop();
    await collector.close();
  }
});

test('a sink answering 400: the batch goes to the dead-letter file and the pipeline continues', async () => {
  const collector = await startCountingServer();
  collector.status = 400;
  const dataDir = makeDataDir('kw-400-');
  const serve = await startShipServe(
    dataDir,
    writeShipConfig(dataDir, {
      type: 'http',
      url: collector.url,
      retry: fastRetry,
      batch: { maxEvents: 100, lingerMs: 5 },
    }),
  );
  const deadLetter = join(dataDir, 'dead-letter', 'out.ndjson');
  try {
    await fetch(`${serve.eventsUrl}/v1/events`, { method: 'POST', body: seqLines(0, 10) });
    await waitFor(
      () => existsSync(deadLetter) && readFileSync(deadLetter, 'utf8').includes('"seq":9'),
      10_000,
      'a dead letter',
    );
    collector.status = 200;
    await fetch(`${serve.eventsUrl}/v1/events`, { method: 'POST', body: seqLines(10, 20) });
    await waitFor(() => collector.seen.size === 10, 10_000, 'later events delivered');
    assert.ok(!collector.seen.has(0), 'the rejected batch is not retried');
    assert.equal(serve.child.exitCode, null);
  } finally {
    await serve.stop();
    await collector.close();
  }
});

test('a full buffer: 503 with Retry-After at the source, and every accepted event arrives', async () => {
  const collector = await startCountingServer();
  collector.status = 503;
  const dataDir = makeDataDir('kw-full-');
  const serve = await startShipServe(
    dataDir,
    writeShipConfig(dataDir, {
      type: 'http',
      url: collector.url,
      retry: fastRetry,
      buffer: { type: 'disk', maxSizeBytes: 64 * 1024, retryAfterMs: 3000 },
    }),
  );
  try {
    let accepted = 0;
    let refused: Response | undefined;
    for (let i = 0; i < 100 && !refused; i++) {
      const response = await fetch(`${serve.eventsUrl}/v1/events`, {
        method: 'POST',
        body: seqLines(i * 50, (i + 1) * 50),
      });
      if (response.status === 200)
        accepted += ((await response.json()) as { accepted: number }).accepted;
      else refused = response;
    }
    assert.ok(refused, 'the buffer filled up');
    assert.equal(refused.status, 503);
    assert.equal(refused.headers.get('retry-after'), '3');
    assert.equal(
      ((await refused.json()) as { error: { code: string } }).error.code,
      'SHIP_BUFFER_FULL',
    );
    collector.status = 200;
    await waitFor(() => collector.seen.size === accepted, 20_000, `${accepted} accepted events`);
    assert.ok(
      (await serve.metric('keepwire_pipeline_events_rejected_total', 'reason="buffer_full"')) >= 1,
    );
  } finally {
    await serve.stop();
    await collector.close();
  }
});

test('malformed input gets a clear 4xx from a real serve, which keeps running', async () => {
  const collector = await startCountingServer();
  const dataDir = makeDataDir('kw-bad-');
  const serve = await startShipServe(
    dataDir,
    writeShipConfig(
      dataDir,
      { type: 'blackhole' },
      { maxLineBytes: 1000, bodyLimitBytes: 100_000 },
    ),
  );
  const post = (body: string | Buffer, headers: Record<string, string> = {}) =>
    fetch(`${serve.eventsUrl}/v1/events`, { method: 'POST', body, headers });
  try {
    const invalid = await post('{"a":1}\n{"a":\n');
    assert.equal(invalid.status, 400);
    assert.match(
      ((await invalid.json()) as { error: { message: string } }).error.message,
      /line 2/,
    );
    assert.equal((await post(`{"a":"${'x'.repeat(2000)}"}\n`)).status, 413);
    assert.equal((await post('x'.repeat(200_000))).status, 413);
    assert.equal((await post(Buffer.from([0x1f, 0x8b, 0x00, 0xff, 0x7b, 0x00]))).status, 400);
    const gzipped = gzipSync(seqLines(0, 100));
    assert.equal(
      (await post(gzipped.subarray(0, gzipped.length >> 1), { 'content-encoding': 'gzip' })).status,
      400,
    );
    assert.equal(
      (await post(gzipSync(seqLines(0, 3)), { 'content-encoding': 'gzip' })).status,
      200,
    );
    assert.equal((await fetch(`${serve.adminUrl}/healthz`)).status, 200);
    assert.equal(serve.child.exitCode, null);
  } finally {
    assert.equal(await serve.stop(), 0);
    await collector.close();
  }
});
