/**
 * A decode thread of `keepwire ship --from modsecurity` that dies mid-run
 * (a real uncaught exception in a real thread,
 * test/support/crashing-decode-thread.ts), through the ship run itself
 * (shipOnce, the disk buffer and the opensearch sink against the `_bulk`
 * test cluster): the run stops with SHIP_DECODE_THREAD_FAILED, the input's
 * checkpoint stays at what was appended, and a second run with the same
 * data directory resumes there and delivers the rest: every transaction
 * indexed once, none lost.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { shipServiceFactory, sinkTo } from '../../src/cli/ship-sink.ts';
import { type ShipSummary, shipInputPlan, shipOnce } from '../../src/pipeline/ship-once.ts';
import { DecodePool } from '../../src/pipeline/sources/decode-pool.ts';
import { FrameWorker } from '../../src/pipeline/sources/frame-worker.ts';
import { createLogger, createRegistry } from '../../src/telemetry/index.ts';
import { startBulkCluster } from '../support/bulk/index.ts';
import { makeDataDir } from '../support/keepwire-process.ts';
import { jsonRecords } from '../support/modsecurity-fixtures.ts';

const RECORDS = 3000;
const CRASHING = new URL('../support/crashing-decode-thread.ts', import.meta.url);

async function run(
  url: string,
  dataDir: string,
  paths: string[],
  pool: DecodePool,
): Promise<ShipSummary> {
  const sink = sinkTo(url, { sink: 'opensearch', index: 'modsec-%Y.%m.%d' });
  const frameWorker = new FrameWorker(
    { maxLineBytes: 1024 * 1024, check: 'json', from: 'modsecurity' },
    pool,
  );
  try {
    return await shipOnce({
      plan: shipInputPlan(dataDir, paths, 'modsecurity'),
      sink,
      createService: await shipServiceFactory(sink),
      dataDir,
      stdin: process.stdin,
      registry: createRegistry({ processMetrics: false }),
      logger: createLogger({ level: 'warn' }),
      signal: new AbortController().signal,
      frameWorker,
    });
  } finally {
    await frameWorker.close();
    await pool.close();
  }
}

test('a decode thread dying mid-run stops the run; the next run resumes at the checkpoint and every transaction is indexed once', async () => {
  const { cluster, urls, close } = await startBulkCluster();
  const dataDir = makeDataDir('kw-ship-decode-crash-');
  try {
    const real = jsonRecords('real-3.0.9/json-serial.log');
    const ids: string[] = [];
    const lines: string[] = [];
    for (let i = 0; i < RECORDS; i++) {
      const record = JSON.parse(real[i % real.length]!);
      record.transaction.unique_id = `crash-${i}`;
      ids.push(record.transaction.unique_id);
      lines.push(JSON.stringify(record));
    }
    const path = join(dataDir, 'audit.log');
    writeFileSync(path, `${lines.join('\n')}\n`);
    assert.ok(lines.join('\n').length > 6 * 1024 * 1024, 'several 1 MiB chunks');

    // The first thread takes the first chunk and dies on its third batch.
    const crashing = new URL(`data:text/javascript,import ${JSON.stringify(`${CRASHING}?at=3`)};`);
    await assert.rejects(
      run(urls[0]!, dataDir, [path], new DecodePool({ threads: 2, threadUrl: crashing })),
      (error: Error & { code?: string }) => error.code === 'SHIP_DECODE_THREAD_FAILED',
    );
    const indexedBefore = cluster.documentCount;
    assert.ok(indexedBefore < RECORDS, 'the run stopped before the end');

    const summary = await run(urls[0]!, dataDir, [], new DecodePool({ threads: 2 }));
    const [start] = summary.inputs;
    assert.equal(start?.state, 'resumed', 'the second run goes on from the first run’s checkpoint');
    assert.ok(start.offset > 0, 'the first chunk was appended before the thread died');
    assert.ok(summary.isComplete, JSON.stringify(summary));
    assert.equal(summary.deadLettered, 0);
    const indexed = [...cluster.documents()].map(([, id]) => id).sort();
    assert.deepEqual(indexed, ids.sort(), 'every transaction indexed, each once');
  } finally {
    await close();
  }
});
