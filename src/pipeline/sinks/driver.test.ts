/**
 * The sink driver through its real parts: the memory buffer, the HTTP sink
 * service and its pool, and a real collector on port 0 that fails on
 * purpose (500 for a while, 400, 429 with Retry-After).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, beforeEach, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createLogger, createRegistry, type Registry } from '../../telemetry/index.ts';
import { MemoryBuffer } from '../buffer/memory.ts';
import { SinkDriver } from './driver.ts';
import { httpSinkSchema } from './http/config.ts';
import { createHttpSinkService } from './http/index.ts';
import { TestCollector } from './test-collector.ts';

const logger = createLogger({ level: 'silent' });
const dir = mkdtempSync(join(tmpdir(), 'keepwire-driver-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function events(from: number, count: number): Buffer[] {
  return Array.from({ length: count }, (_, index) =>
    Buffer.from(JSON.stringify({ seq: from + index, msg: 'x' })),
  );
}

async function until(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(10);
  }
}

async function metric(registry: Registry, name: string): Promise<number> {
  const text = await registry.metrics();
  const line = text.split('\n').find((entry) => entry.startsWith(`${name}{sink="t"}`));
  return line === undefined ? 0 : Number(line.split(' ').at(-1));
}

describe('SinkDriver', () => {
  let collector: TestCollector;
  let registry: Registry;
  let buffer: MemoryBuffer;
  let driver: SinkDriver;
  let deadLetterPath: string;

  beforeEach(async () => {
    collector = await new TestCollector().start();
    registry = createRegistry({ processMetrics: false });
    buffer = new MemoryBuffer({ maxEvents: 100_000 });
    deadLetterPath = join(dir, `${Math.random().toString(36).slice(2)}.ndjson`);
    const config = httpSinkSchema.parse({ type: 'http', url: `${collector.url}/ingest` });
    const service = createHttpSinkService(config, { name: 't', concurrency: 3, registry, logger });
    driver = new SinkDriver({
      name: 't',
      buffer,
      service,
      concurrency: 3,
      batch: { maxEvents: 50, maxBytes: 64 * 1024, lingerMs: 5 },
      retry: { initialBackoffMs: 20, maxBackoffMs: 200 },
      deadLetterPath,
      registry,
      logger,
    });
  });
  afterEach(async () => {
    await driver.stop();
    await buffer.close();
    await collector.close();
  });

  test('a sink answering 500 for a while: the buffer grows, then drains, nothing lost', async () => {
    let isFailing = true;
    collector.answer = () => (isFailing ? { status: 500, body: 'down' } : { status: 204 });
    driver.start();
    for (let batch = 0; batch < 10; batch += 1) await buffer.append(events(batch * 100, 100));
    await until(() => collector.requests.length >= 10);
    assert.equal(buffer.pendingEvents, 1_000, 'nothing acknowledged while failing');
    assert.ok((await metric(registry, 'keepwire_sink_retries_total')) >= 3);
    isFailing = false;
    await until(() => buffer.pendingEvents === 0);
    for (let seq = 0; seq < 1_000; seq += 1)
      assert.ok(collector.seqs.has(seq), `seq ${seq} delivered`);
    assert.equal(await metric(registry, 'keepwire_sink_events_sent_total'), 1_000);
    for (const request of collector.requests) assert.ok(request.events.length <= 50);
  });

  test('a sink answering 400: the batch goes to the dead-letter file and the pipeline continues', async () => {
    collector.answer = (index) =>
      index === 0
        ? { status: 400, body: '{"error":"mapping conflict on field seq"}' }
        : { status: 204 };
    driver.start();
    await buffer.append(events(0, 3));
    await until(() => buffer.pendingEvents === 0);
    await buffer.append(events(3, 2));
    await until(() => buffer.pendingEvents === 0);
    const lines = readFileSync(deadLetterPath, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    assert.equal(lines.length, 3);
    assert.deepEqual(
      lines.map((line) => line.event.seq),
      [0, 1, 2],
    );
    assert.equal(lines[0].sink, 't');
    assert.equal(lines[0].status, 400);
    assert.match(lines[0].response, /mapping conflict/);
    assert.match(lines[0].reason, /refused the batch with 400/);
    assert.ok(!Number.isNaN(Date.parse(lines[0].time)));
    assert.deepEqual([...collector.seqs.keys()].sort(), [3, 4]);
    assert.equal(await metric(registry, 'keepwire_sink_events_dead_lettered_total'), 3);
  });

  test('429 with Retry-After: the retry waits at least that long', async () => {
    collector.answer = (index) =>
      index === 0 ? { status: 429, headers: { 'retry-after': '1' } } : { status: 204 };
    driver.start();
    await buffer.append(events(0, 1));
    await until(() => collector.requests.length === 1);
    const firstAt = Date.now();
    await until(() => buffer.pendingEvents === 0);
    assert.ok(Date.now() - firstAt >= 950, `waited ${Date.now() - firstAt} ms`);
    assert.equal(collector.seqs.get(0), 1);
    assert.equal(collector.requests.length, 2, 'no empty batches sent by the idle workers');
  });

  test('stop() leaves undelivered batches unacknowledged in the buffer', async () => {
    collector.answer = () => ({ status: 503 });
    driver.start();
    await buffer.append(events(0, 10));
    await until(() => collector.requests.length >= 2);
    await driver.stop();
    assert.equal(buffer.pendingEvents, 10);
    assert.equal(await metric(registry, 'keepwire_sink_requests_in_flight'), 0);
  });
});

test('items a service reports rejected are dead-lettered, the rest count as delivered', async () => {
  const registry = createRegistry({ processMetrics: false });
  const buffer = new MemoryBuffer({ maxEvents: 1_000 });
  const deadLetterPath = join(dir, 'items.ndjson');
  const delivered: number[] = [];
  const driver = new SinkDriver({
    name: 't',
    buffer,
    // A _bulk-style peer: odd sequence numbers refused item by item.
    service: {
      async send(records) {
        const rejected: { index: number; reason: string }[] = [];
        records.forEach((record, index) => {
          const { seq } = JSON.parse(record.toString()) as { seq: number };
          if (seq % 2 === 1)
            rejected.push({ index, reason: `item ${seq}: mapper_parsing_exception` });
          else delivered.push(seq);
        });
        return { rejected };
      },
      async close() {},
    },
    concurrency: 1,
    batch: { maxEvents: 100, maxBytes: 64 * 1024, lingerMs: 0 },
    retry: { initialBackoffMs: 10, maxBackoffMs: 10 },
    deadLetterPath,
    registry,
    logger,
  });
  driver.start();
  await buffer.append(events(0, 6));
  await until(() => buffer.pendingEvents === 0);
  await driver.stop();
  const lines = readFileSync(deadLetterPath, 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line));
  assert.deepEqual(
    lines.map((line) => [line.event.seq, line.reason]),
    [
      [1, 'item 1: mapper_parsing_exception'],
      [3, 'item 3: mapper_parsing_exception'],
      [5, 'item 5: mapper_parsing_exception'],
    ],
  );
  assert.deepEqual(delivered, [0, 2, 4]);
  assert.equal(await metric(registry, 'keepwire_sink_events_sent_total'), 3);
});
