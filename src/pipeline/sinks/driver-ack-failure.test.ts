/**
 * The driver keeps a failed acknowledgement apart from a failed send: a
 * delivered batch whose ack fails is counted and logged, not sent again
 * (one `try` used to cover the send and the ack, so it was resent).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createLogger, createRegistry } from '../../telemetry/index.ts';
import type { ReadBatch } from '../buffer/buffer.ts';
import { MemoryBuffer } from '../buffer/memory.ts';
import { SinkDriver } from './driver.ts';
import { httpSinkSchema } from './http/config.ts';
import { createHttpSinkService } from './http/index.ts';
import { TestCollector } from './test-collector.ts';

const dir = mkdtempSync(join(tmpdir(), 'keepwire-driver-ack-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A memory buffer whose first acknowledgement fails, as a disk buffer's ledger write can. */
class FailingFirstAck extends MemoryBuffer {
  failedAcks = 0;
  override async ack(batch: ReadBatch): Promise<void> {
    if (this.failedAcks === 0) {
      this.failedAcks += 1;
      throw Object.assign(new Error('EIO: i/o error, write'), { code: 'EIO' });
    }
    return super.ack(batch);
  }
}

async function until(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(5);
  }
}

test('a delivered batch whose acknowledgement fails is not sent again', async () => {
  const collector = await new TestCollector().start();
  const registry = createRegistry({ processMetrics: false });
  const logger = createLogger({ level: 'silent' });
  const buffer = new FailingFirstAck({ maxEvents: 1000 });
  const config = httpSinkSchema.parse({ type: 'http', url: `${collector.url}/ingest` });
  const driver = new SinkDriver({
    name: 't',
    buffer,
    service: createHttpSinkService(config, { name: 't', concurrency: 1, registry, logger }),
    concurrency: 1, // one worker: a resend of batch 1 would come before batch 2
    batch: { maxEvents: 10, maxBytes: 64 * 1024, lingerMs: 0 },
    retry: { initialBackoffMs: 1, maxBackoffMs: 1 },
    deadLetterPath: join(dir, 'dead.ndjson'),
    registry,
    logger,
    random: () => 0,
  });
  try {
    driver.start();
    await buffer.append([Buffer.from('{"seq":1}')]);
    await until(() => buffer.failedAcks === 1);
    await buffer.append([Buffer.from('{"seq":2}')]);
    await until(() => collector.seqs.has(2));
    assert.equal(collector.seqs.get(1), 1, 'batch 1 delivered once');
    assert.equal(collector.requests.length, 2);
    const text = await registry.metrics();
    assert.match(text, /keepwire_sink_ack_errors_total\{sink="t"\} 1/);
  } finally {
    await driver.stop();
    await buffer.close();
    await collector.close();
  }
});
