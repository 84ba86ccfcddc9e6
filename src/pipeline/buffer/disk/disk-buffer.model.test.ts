/**
 * Model test: the disk buffer against a plain in-memory queue under random
 * operations (append, read, out-of-order ack, close + reopen, a torn tail
 * made by truncating the newest segment at a random byte). Seeded: a failure
 * prints its seed and step, and KW_MODEL_SEED=N replays it.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { makeDataDir } from '../../../../test/support/keepwire-process.ts';
import type { ReadBatch } from '../buffer.ts';
import { DiskBuffer } from './disk-buffer.ts';

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Outstanding {
  readonly batch: ReadBatch;
  /** Model indexes of the batch's records. */
  readonly indexes: number[];
}

async function runModel(seed: number, steps: number): Promise<void> {
  const random = mulberry32(seed);
  const int = (n: number) => Math.floor(random() * n);
  const dir = join(makeDataDir('kw-model-'), 'buffer');
  const options = {
    dir,
    maxSizeBytes: 1 << 30,
    fsync: 'never' as const,
    whenFull: 'block' as const,
    segmentMaxBytes: 2048,
  };
  let buffer = await DiskBuffer.open(options);
  // The model: every record ever accepted, in order; `acked[i]` per record;
  // `nextUnread` the index the next read must start at.
  const model: string[] = [];
  let acked: boolean[] = [];
  let firstUnacked = 0;
  let nextUnread = 0;
  let outstanding: Outstanding[] = [];
  let serial = 0;
  const never = new AbortController().signal;

  for (let step = 0; step < steps; step++) {
    const context = `seed ${seed} step ${step}`;
    const choice = random();
    if (choice < 0.4) {
      const count = 1 + int(5);
      const records = Array.from({ length: count }, () => `r${serial++}:${'x'.repeat(int(120))}`);
      await buffer.append(records.map((text) => Buffer.from(text)));
      model.push(...records);
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
      let lost = 0;
      if (random() < 0.4) lost = tearNewestSegment(dir, int, model.length - firstUnacked);
      if (lost > 0) model.length -= lost;
      // After a restart everything past the durable cursor comes again, in order.
      acked = acked.slice(0, firstUnacked);
      outstanding = [];
      nextUnread = firstUnacked;
      buffer = await DiskBuffer.open(options);
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
  assert.ok(
    readdirSync(dir).filter((name) => name.endsWith('.seg')).length <= 2,
    `seed ${seed}: acked segments deleted`,
  );
}

/**
 * Truncates the newest non-empty segment at a random byte and returns how
 * many unacknowledged records at the model's tail that cut away: the frames
 * of that segment (walked by their length fields before the cut) that no
 * longer end inside the file.
 */
function tearNewestSegment(dir: string, int: (n: number) => number, unacked: number): number {
  const newest = readdirSync(dir)
    .filter((name) => name.endsWith('.seg'))
    .sort()
    .map((name) => join(dir, name))
    .filter((path) => statSync(path).size > 0)
    .at(-1);
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

const SEEDS = process.env.KW_MODEL_SEED ? [Number(process.env.KW_MODEL_SEED)] : [1, 2, 3, 42, 1337];

for (const seed of SEEDS) {
  test(`disk buffer behaves like a queue under random operations (seed ${seed})`, async () => {
    await runModel(seed, 600);
  });
}
