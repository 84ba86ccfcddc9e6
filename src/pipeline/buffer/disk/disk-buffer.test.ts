import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { diskBufferOptions, texts } from '../../../../test/support/disk-buffer-options.ts';
import { ShipBufferFullError } from '../../errors.ts';
import { DiskBuffer } from './disk-buffer.ts';

const never = new AbortController().signal;
const all = { maxEvents: 1000, maxBytes: 1 << 20, lingerMs: 0 };
const options = diskBufferOptions;

function segmentFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((name) => name.endsWith('.seg'))
    .sort();
}

test('a corrupt record is skipped and counted; the others survive a restart', async () => {
  const opts = options();
  const drops: string[] = [];
  const first = await DiskBuffer.open(opts);
  await first.append(texts(3));
  await first.close();
  const [segment] = segmentFiles(opts.dir);
  const path = join(opts.dir, segment!);
  const bytes = readFileSync(path);
  bytes.writeUInt8(bytes.readUInt8(18) ^ 0xff, 18); // a payload byte of the second record
  writeFileSync(path, bytes);
  const second = await DiskBuffer.open({
    ...opts,
    onDrop: (count, reason) => drops.push(`${count} ${reason}`),
  });
  assert.deepEqual(drops, ['1 corrupt']);
  assert.equal(second.pendingEvents, 2);
  assert.deepEqual((await second.read(all, never)).records.map(String), ['e0', 'e2']);
  await second.close();
});

test('an impossible length discards the rest of its segment; a damaged ledger replays from the start', async () => {
  const opts = options();
  const first = await DiskBuffer.open(opts);
  await first.append(texts(4));
  const batch = await first.read({ ...all, maxEvents: 1 }, never);
  await first.ack(batch);
  await first.close();
  const path = join(opts.dir, segmentFiles(opts.dir)[0]!);
  const bytes = readFileSync(path);
  bytes.writeUInt32LE(0xfffffff0, 2 * 10); // the third frame's length
  writeFileSync(path, bytes);
  writeFileSync(join(opts.dir, 'ledger'), 'garbage');
  const drops: number[] = [];
  const regions: string[] = [];
  const second = await DiskBuffer.open({
    ...opts,
    onDrop: (count) => drops.push(count),
    onDamage: (region) => regions.push(`${region.kind} @${region.offset} ${region.bytes} bytes`),
  });
  assert.deepEqual(drops, [], 'how many events the garbage held cannot be known: counted in bytes');
  assert.deepEqual(regions, ['garbage @20 20 bytes']);
  assert.deepEqual((await second.read(all, never)).records.map(String), ['e0', 'e1']);
  await second.close();
});

test('the cursor survives a restart; acknowledged segments are deleted', async () => {
  const opts = options({ segmentMaxBytes: 64 });
  const first = await DiskBuffer.open(opts);
  for (let i = 0; i < 10; i++) await first.append(texts(3, `b${i}-`));
  assert.ok(segmentFiles(opts.dir).length >= 5);
  const a = await first.read({ ...all, maxEvents: 12 }, never);
  const b = await first.read({ ...all, maxEvents: 6 }, never);
  await first.ack(b); // out of order: the cursor must not move yet
  await first.close();
  const second = await DiskBuffer.open(opts);
  assert.equal(second.pendingEvents, 30);
  const again = await second.read({ ...all, maxEvents: 18 }, never);
  assert.deepEqual(again.records.map(String), [...a.records, ...b.records].map(String));
  await second.ack(again);
  await second.close(); // waits for the deletions
  const files = segmentFiles(opts.dir).length;
  const third = await DiskBuffer.open(opts);
  assert.equal(third.pendingEvents, 12);
  assert.equal(String((await third.read(all, never)).records[0]), 'b6-0');
  assert.ok(files < 6, `acknowledged segments deleted (${files} left)`);
  await third.close();
});

test('when full: block rejects with retryAfterMs, dropNewest and dropOldest count drops', async () => {
  const blocking = await DiskBuffer.open(options({ maxSizeBytes: 100, retryAfterMs: 700 }));
  await blocking.append([Buffer.alloc(60, 97)]);
  await assert.rejects(blocking.append([Buffer.alloc(60, 98)]), (error: unknown) => {
    assert.ok(error instanceof ShipBufferFullError);
    assert.equal(error.retryAfterMs, 700);
    return true;
  });
  assert.equal(blocking.pendingEvents, 1);
  await blocking.close();

  const drops: string[] = [];
  const onDrop = (count: number, reason: string) => drops.push(`${count} ${reason}`);
  const newest = await DiskBuffer.open(
    options({ maxSizeBytes: 100, whenFull: 'dropNewest', onDrop }),
  );
  await newest.append([Buffer.alloc(40, 97), Buffer.alloc(40, 98), Buffer.alloc(40, 99)]);
  assert.equal(newest.pendingEvents, 2);
  await newest.close();

  const oldest = await DiskBuffer.open(
    options({ maxSizeBytes: 400, segmentMaxBytes: 100, whenFull: 'dropOldest', onDrop }),
  );
  for (let i = 0; i < 20; i++) await oldest.append([Buffer.from(`${i}`.padStart(40, '-'))]);
  assert.ok(oldest.usedBytes <= 400);
  const left = await oldest.read(all, never);
  assert.equal(String(left.records.at(-1)).trim(), '19'.padStart(40, '-'));
  await oldest.close();
  assert.equal(drops[0], '1 buffer_full_newest');
  const droppedOldest = drops.slice(1).reduce((sum, entry) => sum + Number(entry.split(' ')[0]), 0);
  assert.equal(droppedOldest + left.records.length, 20);
});

test('reads come from the tail cache and, once it overflowed, from the files, in order', async () => {
  // maxSizeBytes 16 KiB: a 4 KiB tail cache, 2 KiB segments, 5.4 KiB written before reading.
  const buffer = await DiskBuffer.open(options({ maxSizeBytes: 16 << 10, fsync: 'never' }));
  const expected: string[] = [];
  for (let round = 0; round < 10; round++) {
    const records = Array.from({ length: 5 }, (_, i) =>
      Buffer.from(`${round}-${i}-${'x'.repeat(96)}`),
    );
    expected.push(...records.map(String));
    await buffer.append(records);
  }
  const seen: string[] = [];
  while (buffer.pendingEvents > 0) {
    const batch = await buffer.read({ maxEvents: 7, maxBytes: 1 << 20, lingerMs: 0 }, never);
    seen.push(...batch.records.map(String));
    await buffer.ack(batch);
    // Appends between reads land in the cache again.
    if (seen.length === 14) {
      const more = [Buffer.from(`late-${'y'.repeat(90)}`)];
      expected.push(String(more[0]));
      await buffer.append(more);
    }
  }
  assert.deepEqual(seen, expected);
  await buffer.close();
});

test('appendFrames takes frames laid out elsewhere, checks their headers, and applies dropNewest', async () => {
  const { encodeFrames, frameBytes } = await import('./record-frame.ts');
  const drops: number[] = [];
  const buffer = await DiskBuffer.open(
    options({ maxSizeBytes: 60, whenFull: 'dropNewest', onDrop: (count) => drops.push(count) }),
  );
  const records = texts(5, 'frame-'); // 7 bytes each, 15 framed
  const frames = encodeFrames(records, frameBytes(records));
  await assert.rejects(buffer.appendFrames(frames, 4), /hold 5 whole frames/);
  await assert.rejects(buffer.appendFrames(Buffer.alloc(16), 1), /not a frame at byte 0/);
  await buffer.appendFrames(frames, 5); // 75 bytes framed: the first 4 fit in 60
  assert.deepEqual(drops, [1]);
  const batch = await buffer.read(all, never);
  assert.deepEqual(batch.records.map(String), ['frame-0', 'frame-1', 'frame-2', 'frame-3']);
  await buffer.close();
});

test('endLinger: a reader lingering for a fuller batch takes what is there at once', async () => {
  const buffer = await DiskBuffer.open(options());
  await buffer.append(texts(2));
  const lingering = buffer.read({ maxEvents: 1000, maxBytes: 1 << 20, lingerMs: 600_000 }, never);
  let isRead = false;
  void lingering.then(() => {
    isRead = true;
  });
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(isRead, false, 'still lingering for more');
  buffer.endLinger();
  const batch = await lingering;
  assert.equal(batch.records.length, 2);
  await buffer.close();
});

test('drained: resolves when the last pending event is acknowledged, not before', async () => {
  const buffer = await DiskBuffer.open(options());
  await buffer.drained(); // nothing pending: at once
  await buffer.append(texts(3));
  let isDrained = false;
  const drained = buffer.drained().then(() => {
    isDrained = true;
  });
  const first = await buffer.read({ ...all, maxEvents: 2 }, never);
  const second = await buffer.read(all, never);
  await buffer.ack(second); // out of order: one event still pending
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(isDrained, false);
  await buffer.ack(first);
  await drained;
  assert.equal(buffer.pendingEvents, 0);
  await buffer.close();
});

test('with an interval fsync, rolled segments close beside the writes and a reopen finds every record', async () => {
  const opts = options({ fsync: 20, segmentMaxBytes: 256 });
  const dir = opts.dir;
  const first = await DiskBuffer.open(opts);
  for (let i = 0; i < 40; i++) await first.append(texts(5, `r${i}-`));
  assert.ok(segmentFiles(dir).length >= 10, `rolled: ${segmentFiles(dir).length} segments`);
  await first.close();
  const second = await DiskBuffer.open(options({ dir, fsync: 20, segmentMaxBytes: 256 }));
  const seen: string[] = [];
  while (second.pendingEvents > 0) {
    const batch = await second.read(all, never);
    seen.push(...batch.records.map(String));
    await second.ack(batch);
  }
  assert.deepEqual(
    seen,
    Array.from({ length: 40 }, (_, i) => texts(5, `r${i}-`).map(String)).flat(),
  );
  await second.close();
});
