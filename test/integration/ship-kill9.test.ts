/**
 * Reliability: `kill -9` of `keepwire serve` three times while 200,000
 * sequence-numbered events flow through the http source and a disk buffer
 * to an http sink (a counting server). Every sequence number arrives; the
 * duplicates per crash stay within what was in flight: one sink batch (the
 * sink runs one batch at a time here) plus one source request whose answer
 * the crash cut off (the producer resends it, as any client would).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startCountingServer } from '../support/counting-server.ts';
import {
  makeDataDir,
  seqLines,
  startShipServe,
  waitFor,
  writeShipConfig,
} from '../support/ship-serve.ts';

const TOTAL = 200_000;
const PER_REQUEST = 500;
const SINK_BATCH = 500;
const CRASHES = 3;

test('kill -9 three times mid-flow: every event arrives, duplicates bounded per crash', {
  timeout: 120_000,
}, async () => {
  const collector = await startCountingServer();
  const dataDir = makeDataDir('kw-kill9-');
  const config = writeShipConfig(dataDir, {
    type: 'http',
    url: `${collector.url}/ingest`,
    concurrency: 1,
    batch: { maxEvents: SINK_BATCH, lingerMs: 5 },
    buffer: { type: 'disk', fsync: 1000 },
  });
  let serve = await startShipServe(dataDir, config);
  const crashAt = [0.25, 0.5, 0.75].map((share) => Math.floor((TOTAL / PER_REQUEST) * share));
  let crashes = 0;
  try {
    for (let request = 0; request < TOTAL / PER_REQUEST; request++) {
      const body = seqLines(request * PER_REQUEST, (request + 1) * PER_REQUEST, 20);
      // Resend until accepted: a crash may cut the request or its answer.
      for (;;) {
        try {
          const response = await fetch(`${serve.eventsUrl}/v1/events`, { method: 'POST', body });
          await response.arrayBuffer();
          if (response.status === 200) break;
          assert.equal(response.status, 503, `unexpected answer ${response.status}`);
        } catch {
          // Connection refused or reset: the process is gone; it is restarted below.
        }
        await sleep(20);
      }
      if (crashes < CRASHES && request === crashAt[crashes]) {
        // Crash while the sink is still busy delivering (events in flight).
        serve.child.kill('SIGKILL');
        await serve.stop('SIGKILL');
        crashes += 1;
        serve = await startShipServe(dataDir, config);
      }
    }
    await waitFor(() => collector.seen.size === TOTAL, 60_000, `all ${TOTAL} sequence numbers`);
    const missing: number[] = [];
    let duplicates = 0;
    for (let seq = 0; seq < TOTAL; seq++) {
      const count = collector.seen.get(seq) ?? 0;
      if (count === 0) missing.push(seq);
      duplicates += Math.max(0, count - 1);
    }
    assert.deepEqual(missing, []);
    assert.equal(crashes, CRASHES);
    assert.ok(
      duplicates <= CRASHES * (SINK_BATCH + PER_REQUEST),
      `${duplicates} duplicates, more than one sink batch + one request per crash`,
    );
    await waitFor(
      async () => (await serve.metric('keepwire_pipeline_buffer_events')) === 0,
      10_000,
      'an empty buffer',
    );
  } finally {
    await serve.stop();
    await collector.close();
  }
});
