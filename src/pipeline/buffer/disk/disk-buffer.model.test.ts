/**
 * Model test: the disk buffer against a plain in-memory queue under random
 * operations (append, read, out-of-order ack, close + reopen, a torn tail
 * made by truncating the newest segment at a random byte, records corrupted
 * on disk), with its file I/O failing at random through the filesystem seam
 * (failed writes, failed fdatasyncs, short writes, ENOSPC, segments that
 * cannot be created). It proves the buffer's promises: an append that
 * resolved is never lost (every one comes out, in order), an append that
 * failed was refused with SHIP_BUFFER_WRITE_FAILED and is never handed out,
 * every record damaged on disk is counted, and nothing throws out of open
 * (no crash loop). Seeded: a failure prints its seed and step, and
 * KW_MODEL_SEED=N replays it.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { type Fault, FaultyFilesystem } from '../../../../test/support/faulty-filesystem.ts';
import { makeDataDir } from '../../../../test/support/keepwire-process.ts';
import { seededRandom } from '../../../../test/support/seeded-random.ts';
import { ShipBufferWriteError } from '../../errors.ts';
import type { ReadBatch } from '../buffer.ts';
import { DiskBuffer, type DiskBufferOptions } from './disk-buffer.ts';

interface Outstanding {
  readonly batch: ReadBatch;
  /** Model indexes of the batch's records. */
  readonly indexes: number[];
}

const FAULTS: readonly [number, Fault][] = [
  [0.03, 'EIO'],
  [0.03, 'ENOSPC'],
  [0.05, 'short'],
];

async function runModel(seed: number, steps: number): Promise<void> {
  const random = seededRandom(seed);
  const int = (n: number) => Math.floor(random() * n);
  const filesystem = new FaultyFilesystem((operation) => {
    const draw = random();
    let limit = 0;
    for (const [chance, fault] of FAULTS) {
      limit += chance;
      if (draw < limit) return operation === 'write' || fault !== 'short' ? fault : undefined;
    }
    return undefined;
  });
  let corruptCounted = 0;
  let step = 0;
  const options: DiskBufferOptions = {
    dir: join(makeDataDir('kw-model-'), 'buffer'),
    maxSizeBytes: 1 << 30,
    fsync: 'always',
    whenFull: 'block',
    segmentMaxBytes: 2048,
    retryAfterMs: 3, // the two steps after a failure are refused
    now: () => step, // one millisecond per step: refusals do not depend on the machine's speed
    filesystem,
    onDrop: (count, reason) => {
      assert.equal(reason, 'corrupt');
      corruptCounted += count;
    },
  };
  let buffer = await DiskBuffer.open(options);
  // The model: every record accepted, in order; `acked[i]` per record;
  // `nextUnread` the index the next read must start at.
  const model: string[] = [];
  let acked: boolean[] = [];
  let firstUnacked = 0;
  let nextUnread = 0;
  let outstanding: Outstanding[] = [];
  let serial = 0;
  let refused = 0;
  const never = new AbortController().signal;

  for (; step < steps; step++) {
    const context = `seed ${seed} step ${step}`;
    const choice = random();
    if (choice < 0.4) {
      const count = 1 + int(5);
      const records = Array.from({ length: count }, () => `r${serial++}:${'x'.repeat(int(120))}`);
      try {
        await buffer.append(records.map((text) => Buffer.from(text)));
        model.push(...records);
      } catch (error) {
        assert.ok(error instanceof ShipBufferWriteError, `${context}: ${error}`);
        refused += 1;
      }
    } else if (choice < 0.7) {
      if (nextUnread === model.length) continue;
      const limits = { maxEvents: 1 + int(8), maxBytes: 50 + int(400), lingerMs: 0 };
      const batch = await buffer.read(limits, never);
      const expected = model.slice(nextUnread, nextUnread + batch.records.length);
      assert.deepEqual(batch.records.map(String), expected, context);
      assert.ok(batch.records.length >= 1 && batch.records.length <= limits.maxEvents, context);
      const indexes = expected.map((_, i) => nextUnread + i);
      nextUnread += batch.records.length;
      outstanding.push({ batch, indexes });
    } else if (choice < 0.9) {
      if (outstanding.length === 0) continue;
      const [done] = outstanding.splice(int(outstanding.length), 1);
      await buffer.ack(done!.batch);
      for (const index of done!.indexes) acked[index] = true;
      while (acked[firstUnacked]) firstUnacked += 1;
    } else {
      await buffer.close();
      const damage = random();
      if (damage < 0.3) {
        const lost = tearNewestSegment(options.dir, int, model.length - firstUnacked);
        if (lost > 0) model.length -= lost;
      } else if (damage < 0.6) {
        const before = corruptCounted;
        const gone = corruptRecords(options.dir, int, new Set(model.slice(firstUnacked)));
        for (let i = model.length - 1; i >= firstUnacked; i--)
          if (gone.has(model[i]!)) model.splice(i, 1);
        buffer = await DiskBuffer.open(options);
        assert.equal(
          corruptCounted - before,
          gone.size,
          `${context}: every corrupt record counted`,
        );
      }
      // After a restart everything past the durable cursor comes again, in order.
      acked = acked.slice(0, firstUnacked);
      outstanding = [];
      nextUnread = firstUnacked;
      if (damage >= 0.3 && damage < 0.6) {
        // opened above, to compare the count
      } else buffer = await DiskBuffer.open(options);
      assert.equal(buffer.pendingEvents, model.length - firstUnacked, context);
    }
    let ackedAhead = 0;
    for (let i = firstUnacked; i < acked.length; i++) if (acked[i]) ackedAhead += 1;
    const pending = model.length - firstUnacked - ackedAhead;
    assert.equal(buffer.pendingEvents, pending, `${context}: pendingEvents`);
  }
  // Drain: everything left comes out in order, then all segments but the newest go.
  while (nextUnread < model.length) {
    const batch = await buffer.read({ maxEvents: 100, maxBytes: 1 << 20, lingerMs: 0 }, never);
    assert.deepEqual(
      batch.records.map(String),
      model.slice(nextUnread, nextUnread + batch.records.length),
    );
    nextUnread += batch.records.length;
    outstanding.push({ batch, indexes: [] });
  }
  for (const { batch } of outstanding) await buffer.ack(batch);
  assert.equal(buffer.pendingEvents, 0);
  await buffer.close();
  const { injected } = filesystem;
  assert.ok(
    refused > 0 && injected.write + injected.datasync > 0 && injected.short > 0,
    `seed ${seed}: faults were injected`,
  );
  assert.ok(
    readdirSync(options.dir).filter((name) => name.endsWith('.seg')).length <= 2,
    `seed ${seed}: acked segments deleted`,
  );
}

function segmentPaths(dir: string): string[] {
  return readdirSync(dir)
    .filter((name) => name.endsWith('.seg'))
    .sort()
    .map((name) => join(dir, name))
    .filter((path) => statSync(path).size > 0);
}

/**
 * Truncates the newest non-empty segment at a random byte and returns how
 * many unacknowledged records at the model's tail that cut away: the frames
 * of that segment (walked by their length fields before the cut) that no
 * longer end inside the file.
 */
function tearNewestSegment(dir: string, int: (n: number) => number, unacked: number): number {
  const newest = segmentPaths(dir).at(-1);
  if (!newest) return 0;
  const bytes = readFileSync(newest);
  const kept = bytes.length - 1 - int(bytes.length);
  let lost = 0;
  for (let at = 0; at < bytes.length; at += 8 + bytes.readUInt32LE(at)) {
    if (at + 8 + bytes.readUInt32LE(at) > kept) lost += 1;
  }
  truncateSync(newest, kept);
  return Math.min(unacked, lost);
}

/**
 * Flips a payload byte of a few unacknowledged records (each picked with
 * chance 1/8) in every segment; returns the records damaged.
 */
function corruptRecords(
  dir: string,
  int: (n: number) => number,
  unacked: Set<string>,
): Set<string> {
  const gone = new Set<string>();
  for (const path of segmentPaths(dir)) {
    const bytes = readFileSync(path);
    for (let at = 0; at + 8 <= bytes.length; at += 8 + bytes.readUInt32LE(at)) {
      const length = bytes.readUInt32LE(at);
      const text = bytes.toString('utf8', at + 8, at + 8 + length);
      if (!unacked.has(text) || int(8) !== 0) continue;
      const byte = at + 8 + int(length);
      bytes.writeUInt8(bytes.readUInt8(byte) ^ 0x20, byte);
      gone.add(text);
    }
    writeFileSync(path, bytes);
  }
  return gone;
}

const SEEDS = process.env.KW_MODEL_SEED ? [Number(process.env.KW_MODEL_SEED)] : [1, 2, 3, 42, 1337];

for (const seed of SEEDS) {
  test(`disk buffer behaves like a queue under random operations and I/O faults (seed ${seed})`, async () => {
    await runModel(seed, 800);
  });
}
