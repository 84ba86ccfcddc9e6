/**
 * `keepwire serve` with a memory buffer under `whenFull: block` and a sink
 * that fails for a while: a request that finds the buffer full waits for
 * room (the gauge `keepwire_pipeline_buffer_appends_waiting` shows it) and
 * is answered 200 once the sink delivers and room comes back; a request
 * that waits longer than `retryAfterMs` gets 503 + Retry-After. Nothing
 * accepted is lost.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startCountingServer } from '../support/counting-server.ts';
import {
  makeDataDir,
  seqLines,
  startShipServe,
  waitFor,
  writeShipConfig,
} from '../support/ship-serve.ts';

const MAX_EVENTS = 10;

async function post(url: string, from: number, to: number): Promise<Response> {
  return fetch(`${url}/v1/events`, { method: 'POST', body: seqLines(from, to) });
}

test('memory buffer, whenFull block: a full buffer makes intake wait for room, then 503 past the bound', {
  timeout: 120_000,
}, async () => {
  const collector = await startCountingServer();
  collector.status = 500;
  const dataDir = makeDataDir('kw-memblock-');
  const config = (retryAfterMs: number) =>
    writeShipConfig(dataDir, {
      type: 'http',
      url: collector.url,
      retry: { initialBackoffMs: 20, maxBackoffMs: 200 },
      batch: { maxEvents: MAX_EVENTS, lingerMs: 5 },
      buffer: { type: 'memory', maxEvents: MAX_EVENTS, whenFull: 'block', retryAfterMs },
    });
  const waiting = () => serve.metric('keepwire_pipeline_buffer_appends_waiting');
  let serve = await startShipServe(dataDir, config(120_000));
  try {
    assert.equal((await post(serve.eventsUrl, 0, MAX_EVENTS)).status, 200);
    // The buffer is full and the sink fails: this request waits instead of being refused.
    const blocked = post(serve.eventsUrl, MAX_EVENTS, MAX_EVENTS + 5);
    await waitFor(async () => (await waiting()) === 1, 30_000, 'the request to wait for room');
    collector.status = 200;
    const answer = await blocked;
    assert.equal(answer.status, 200, await answer.text());
    await waitFor(() => collector.seen.size === MAX_EVENTS + 5, 30_000, 'every event delivered');
    assert.equal(await waiting(), 0);
  } finally {
    await serve.stop();
  }

  // A short bound: the wait runs out and the request gets 503 + Retry-After.
  collector.status = 500;
  serve = await startShipServe(dataDir, config(1000));
  try {
    assert.equal((await post(serve.eventsUrl, 100, 100 + MAX_EVENTS)).status, 200);
    const refused = await post(serve.eventsUrl, 200, 205);
    assert.equal(refused.status, 503);
    assert.equal(refused.headers.get('retry-after'), '1');
    const body = (await refused.json()) as { error: { code: string; message: string } };
    assert.equal(body.error.code, 'SHIP_BUFFER_FULL');
    assert.match(body.error.message, /no room came within 1000 ms/);
    collector.status = 200;
    await waitFor(() => collector.seen.has(100 + MAX_EVENTS - 1), 30_000, 'the accepted events');
    for (let seq = 100; seq < 100 + MAX_EVENTS; seq++) assert.ok(collector.seen.has(seq));
    for (let seq = 200; seq < 205; seq++) assert.equal(collector.seen.has(seq), false);
  } finally {
    await serve.stop();
    await collector.close();
  }
});
