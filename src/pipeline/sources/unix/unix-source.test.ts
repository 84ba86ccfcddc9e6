import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { makeDataDir } from '../../../../test/support/keepwire-process.ts';
import { createLogger, createRegistry } from '../../../telemetry/index.ts';
import { MemoryBuffer } from '../../buffer/memory.ts';
import { PipelineMetrics } from '../../pipeline-metrics.ts';
import { UnixSource } from './unix-source.ts';

test('NDJSON over a 0660 Unix socket; bad and oversized lines are counted and skipped', async () => {
  const dir = makeDataDir('kw-unix-');
  const registry = createRegistry({ processMetrics: false });
  const buffer = new MemoryBuffer({ maxEvents: 3, retryAfterMs: 20 });
  const source = new UnixSource({
    name: 'local',
    path: join(dir, 'events.sock'),
    maxLineBytes: 100,
    maxConnections: 4,
    logger: createLogger({ level: 'silent' }),
    metrics: new PipelineMetrics(registry),
    append: (records) => buffer.append(records),
  });
  const path = await source.start();
  assert.equal(statSync(path).mode & 0o777, 0o660);
  const client = connect(path);
  client.write('{"n":1}\nnot json\n{"n":2,"pad":"');
  client.write(`${'x'.repeat(200)}"}\n{"n":3}\n\u0000\u0001\u00ff\n{"n":4}\n{"n":5}`);
  client.end();
  // The buffer holds 3: the rest waits (buffer full, retried) until a read frees room.
  const seen: string[] = [];
  const signal = AbortSignal.timeout(5000);
  while (seen.length < 4) {
    const batch = await buffer.read({ maxEvents: 10, maxBytes: 1 << 20, lingerMs: 50 }, signal);
    seen.push(...batch.records.map(String));
    await buffer.ack(batch);
  }
  assert.deepEqual(seen, ['{"n":1}', '{"n":3}', '{"n":4}', '{"n":5}']);
  const rejected = await registry.getSingleMetricAsString(
    'keepwire_pipeline_events_rejected_total',
  );
  assert.match(rejected, /reason="invalid"} 2/);
  assert.match(rejected, /reason="too_large"} 1/);
  await sleep(10);
  await source.stop();
});
