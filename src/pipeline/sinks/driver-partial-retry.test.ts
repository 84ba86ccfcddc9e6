/**
 * The sink driver with services that answer item by item (SendResult):
 * only the items to retry are sent again, Retry-After is honoured, refused
 * items are never dropped, and a seeded model checks that every event ends
 * delivered once or dead-lettered once.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { seededRandom, testSeed } from '../../../test/support/seeded-random.ts';
import { createLogger, createRegistry, type Registry } from '../../telemetry/index.ts';
import { MemoryBuffer } from '../buffer/memory.ts';
import { SinkUnavailableError } from '../errors.ts';
import { SinkDriver } from './driver.ts';
import { DELIVERED, type RejectedItem, type SinkService } from './service.ts';

const logger = createLogger({ level: 'silent' });
const dir = mkdtempSync(join(tmpdir(), 'keepwire-driver-partial-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const events = (from: number, count: number) =>
  Array.from({ length: count }, (_, index) => Buffer.from(`{"seq":${from + index}}`));

async function until(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  for (const deadline = Date.now() + timeoutMs; !condition(); await sleep(10))
    if (Date.now() > deadline) throw new Error('condition not met in time');
}

async function metric(registry: Registry, name: string): Promise<number> {
  const line = (await registry.metrics())
    .split('\n')
    .find((entry) => entry.startsWith(`${name}{sink="t"}`));
  return line === undefined ? 0 : Number(line.split(' ').at(-1));
}

describe('SinkDriver: items to retry (RetryPartial)', () => {
  function partialDriver(service: SinkService, deadLetterPath: string, registry: Registry) {
    const buffer = new MemoryBuffer({ maxEvents: 100_000 });
    const driver = new SinkDriver({
      name: 't',
      buffer,
      service,
      concurrency: 2,
      batch: { maxEvents: 40, maxBytes: 64 * 1024, lingerMs: 0 },
      retry: { initialBackoffMs: 5, maxBackoffMs: 20 },
      deadLetterPath,
      registry,
      logger,
    });
    return { buffer, driver };
  }
  const seqOf = (record: Buffer) => (JSON.parse(record.toString()) as { seq: number }).seq;

  test('only the items to retry are sent again; the batch is acknowledged when none is left', async () => {
    const sends: number[][] = [];
    let isHolding = true;
    const service: SinkService = {
      async send(records) {
        const seqs = records.map(seqOf);
        sends.push(seqs);
        // First answer: seq % 3 == 1 to retry, seq % 3 == 2 rejected; later: hold the
        // retried items until told, then deliver them.
        if (sends.length === 1) {
          return {
            rejected: seqs.flatMap((seq, index) =>
              seq % 3 === 2
                ? [{ index, reason: `bad ${seq}`, status: 400, response: '{"type":"x"}' }]
                : [],
            ),
            retry: seqs.flatMap((seq, index) => (seq % 3 === 1 ? [index] : [])),
          };
        }
        return isHolding ? { rejected: [], retry: records.map((_, index) => index) } : DELIVERED;
      },
      async close() {},
    };
    const registry = createRegistry({ processMetrics: false });
    const deadLetterPath = join(dir, 'partial.ndjson');
    const { buffer, driver } = partialDriver(service, deadLetterPath, registry);
    driver.start();
    await buffer.append(events(0, 9));
    await until(() => sends.length >= 3);
    assert.deepEqual(sends[0], [0, 1, 2, 3, 4, 5, 6, 7, 8]);
    assert.deepEqual(sends[1], [1, 4, 7], 'only the items to retry are sent again');
    assert.equal(buffer.pendingEvents, 9, 'nothing is acknowledged while items are left');
    isHolding = false;
    await until(() => buffer.pendingEvents === 0);
    await driver.stop();
    const letters = readFileSync(deadLetterPath, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    assert.deepEqual(
      letters.map((letter) => [letter.event.seq, letter.reason, letter.status, letter.response]),
      [
        [2, 'bad 2', 400, '{"type":"x"}'],
        [5, 'bad 5', 400, '{"type":"x"}'],
        [8, 'bad 8', 400, '{"type":"x"}'],
      ],
    );
    assert.deepEqual(driver.counts, {
      delivered: 6,
      alreadyPresent: 0,
      deadLettered: 3,
      retried: 3 * (sends.length - 1),
    });
    assert.equal(await metric(registry, 'keepwire_sink_events_sent_total'), 6);
    assert.equal(
      await metric(registry, 'keepwire_sink_events_retried_total'),
      3 * (sends.length - 1),
    );
  });

  test('a partial retry waits at least the Retry-After the service reports', async () => {
    const sentAt: number[] = [];
    const service: SinkService = {
      async send(records) {
        sentAt.push(Date.now());
        return sentAt.length === 1
          ? { rejected: [], retry: [records.length - 1], retryAfterMs: 600 }
          : DELIVERED;
      },
      async close() {},
    };
    const { buffer, driver } = partialDriver(
      service,
      join(dir, 'ra.ndjson'),
      createRegistry({ processMetrics: false }),
    );
    driver.start();
    await buffer.append(events(0, 3));
    await until(() => buffer.pendingEvents === 0);
    await driver.stop();
    assert.equal(sentAt.length, 2);
    assert.ok(sentAt[1]! - sentAt[0]! >= 590, `waited ${sentAt[1]! - sentAt[0]!} ms`);
  });

  test('rejected items whose dead-letter write failed are sent again, never dropped', async () => {
    const blocker = join(dir, 'blocker');
    writeFileSync(blocker, 'a file where the dead-letter directory should be');
    const deadLetterPath = join(blocker, 'dl.ndjson');
    let sends = 0;
    const service: SinkService = {
      async send(records) {
        sends += 1;
        if (sends === 2) rmSync(blocker); // the second refusal can be written
        return {
          rejected: records.flatMap((record, index) =>
            seqOf(record) === 1 ? [{ index, reason: 'no' }] : [],
          ),
        };
      },
      async close() {},
    };
    const { buffer, driver } = partialDriver(
      service,
      deadLetterPath,
      createRegistry({ processMetrics: false }),
    );
    driver.start();
    await buffer.append(events(0, 3));
    await until(() => buffer.pendingEvents === 0);
    await driver.stop();
    assert.equal(sends, 2);
    const letters = readFileSync(deadLetterPath, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    assert.deepEqual(
      letters.map((letter) => letter.event.seq),
      [1],
    );
    assert.deepEqual(driver.counts, {
      delivered: 2,
      alreadyPresent: 0,
      deadLettered: 1,
      retried: 1,
    });
  });

  test('stopped while items wait to be retried: the whole batch stays in the buffer', async () => {
    let sends = 0;
    const service: SinkService = {
      async send(records) {
        sends += 1;
        return { rejected: [], retry: [records.length - 1], retryAfterMs: 60_000 };
      },
      async close() {},
    };
    const { buffer, driver } = partialDriver(
      service,
      join(dir, 'stop.ndjson'),
      createRegistry({ processMetrics: false }),
    );
    driver.start();
    await buffer.append(events(0, 5));
    await until(() => sends === 1);
    await driver.stop();
    assert.equal(buffer.pendingEvents, 5, 'acknowledged only when nothing is left');
  });

  test('seeded random item outcomes: every event ends delivered once or dead-lettered once', async () => {
    const seed = testSeed('driver partial-retry model');
    const random = seededRandom(seed);
    const delivered = new Map<number, number>();
    const service: SinkService = {
      async send(records) {
        // A failed send delivered nothing (the peer never answered for any item).
        if (random() < 0.05) throw new SinkUnavailableError('whole send failed');
        const rejected: RejectedItem[] = [];
        const retry: number[] = [];
        let alreadyPresent = 0;
        records.forEach((record, index) => {
          const roll = random();
          const seq = seqOf(record);
          if (roll < 0.15) retry.push(index);
          else if (roll < 0.2) rejected.push({ index, reason: `refused ${seq}` });
          else {
            if (roll > 0.95) alreadyPresent += 1;
            delivered.set(seq, (delivered.get(seq) ?? 0) + 1);
          }
        });
        return { rejected, retry, alreadyPresent };
      },
      async close() {},
    };
    const deadLetterPath = join(dir, `model-${seed}.ndjson`);
    const { buffer, driver } = partialDriver(
      service,
      deadLetterPath,
      createRegistry({ processMetrics: false }),
    );
    driver.start();
    for (let at = 0; at < 2_000; at += 100) await buffer.append(events(at, 100));
    await until(() => buffer.pendingEvents === 0, 30_000);
    await driver.stop();
    const dead = readFileSync(deadLetterPath, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line).event.seq as number);
    const deadSet = new Set(dead);
    assert.equal(deadSet.size, dead.length, 'no event dead-lettered twice');
    for (let seq = 0; seq < 2_000; seq += 1) {
      const times = delivered.get(seq) ?? 0;
      if (deadSet.has(seq)) assert.equal(times, 0, `seq ${seq} dead-lettered and delivered`);
      else assert.equal(times, 1, `seq ${seq} delivered ${times} times`);
    }
    assert.equal(driver.counts.delivered + driver.counts.deadLettered, 2_000);
  });
});
