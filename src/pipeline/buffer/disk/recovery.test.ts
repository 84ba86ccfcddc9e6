/**
 * Recovery with real damaged files: every lost event counted (or its bytes,
 * where the count cannot be known), each damaged region reported once with
 * its segment and offset, and nothing in the directory stops a start.
 */
import assert from 'node:assert/strict';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { makeDataDir } from '../../../../test/support/keepwire-process.ts';
import { DiskBuffer, type DiskBufferOptions } from './disk-buffer.ts';
import type { DamagedRegion } from './recovery.ts';

const never = new AbortController().signal;
const all = { maxEvents: 100_000, maxBytes: 1 << 24, lingerMs: 0 };
const texts = (n: number, prefix = 'e') =>
  Array.from({ length: n }, (_, i) => Buffer.from(`${prefix}${String(i).padStart(4, '0')}`));

interface Reopened {
  readonly buffer: DiskBuffer;
  readonly dropped: number;
  readonly regions: DamagedRegion[];
}

async function reopen(options: DiskBufferOptions): Promise<Reopened> {
  let dropped = 0;
  const regions: DamagedRegion[] = [];
  const buffer = await DiskBuffer.open({
    ...options,
    onDrop: (count, reason) => {
      assert.equal(reason, 'corrupt');
      dropped += count;
    },
    onDamage: (region) => regions.push(region),
  });
  return { buffer, dropped, regions };
}

function options(extra: Partial<DiskBufferOptions> = {}): DiskBufferOptions {
  const dir = join(makeDataDir('kw-recovery-'), 'b');
  return { dir, maxSizeBytes: 1 << 24, fsync: 'always', whenFull: 'block', ...extra };
}

function segments(dir: string): string[] {
  return readdirSync(dir)
    .filter((name) => name.endsWith('.seg'))
    .sort()
    .map((name) => join(dir, name));
}

async function filled(opts: DiskBufferOptions, appends: number, perAppend: number) {
  const buffer = await DiskBuffer.open(opts);
  for (let i = 0; i < appends; i++) await buffer.append(texts(perAppend, `a${i}-`));
  await buffer.close();
}

test('a segment damaged at offset 0 is reported with its bytes, not dropped silently', async () => {
  const opts = options();
  await filled(opts, 1, 50);
  const [path] = segments(opts.dir);
  const bytes = readFileSync(path!);
  bytes.writeUInt32LE(0, 0); // the first frame's length: garbage from the first byte
  writeFileSync(path!, bytes);
  const { buffer, dropped, regions } = await reopen(opts);
  assert.equal(buffer.pendingEvents, 0);
  assert.equal(dropped, 0);
  assert.equal(regions.length, 1);
  assert.deepEqual(
    { kind: regions[0]!.kind, offset: regions[0]!.offset, bytes: regions[0]!.bytes },
    { kind: 'garbage', offset: 0, bytes: bytes.length },
  );
  assert.equal(regions[0]!.events, undefined);
  await buffer.close();
});

test('a run of corrupt records counts every event, as one region', async () => {
  const opts = options();
  await filled(opts, 1, 100);
  const [path] = segments(opts.dir);
  const bytes = readFileSync(path!);
  const frame = 8 + 'a0-0000'.length;
  for (let i = 10; i < 60; i++)
    bytes.writeUInt8(bytes.readUInt8(i * frame + 9) ^ 0xff, i * frame + 9); // a payload byte of records 10..59
  writeFileSync(path!, bytes);
  const { buffer, dropped, regions } = await reopen(opts);
  assert.equal(dropped, 50);
  assert.equal(regions.length, 1);
  assert.equal(regions[0]!.offset, 10 * frame);
  assert.equal(regions[0]!.events, 50);
  const records = (await buffer.read(all, never)).records.map(String);
  assert.equal(records.length, 50);
  assert.equal(records[10], 'a0-0060');
  await buffer.close();
});

test('torn data in an older segment is counted; the newer segments survive', async () => {
  const opts = options({ segmentMaxBytes: 200 });
  await filled(opts, 6, 10);
  const files = segments(opts.dir);
  assert.ok(files.length >= 3, `${files.length} segments`);
  const size = readFileSync(files[0]!).length;
  truncateSync(files[0]!, size - 3); // the last frame of the oldest segment torn
  const { buffer, dropped, regions } = await reopen(opts);
  assert.equal(dropped, 1);
  assert.deepEqual(
    regions.map((r) => [r.kind, r.offset, r.events]),
    [['torn', size - 15, 1]],
  );
  assert.equal(buffer.pendingEvents, 59);
  await buffer.close();
});

test('a directory named like a segment is set aside and reported once; every start succeeds', async () => {
  const opts = options();
  await filled(opts, 1, 5);
  const name = join(opts.dir, `${'9'.repeat(15).padStart(20, '0')}.seg`);
  mkdirSync(name);
  const first = await reopen(opts);
  assert.deepEqual(
    first.regions.map((r) => r.kind),
    ['unreadable'],
  );
  assert.equal(first.buffer.pendingEvents, 5);
  await first.buffer.append(texts(1, 'new'));
  await first.buffer.close();
  assert.ok(existsSync(`${name}.damaged`));
  const second = await reopen(opts);
  assert.deepEqual(second.regions, []);
  assert.equal(second.buffer.pendingEvents, 6);
  await second.buffer.close();
});

test('garbage before the ack cursor costs nothing: the scan goes on from the cursor', async () => {
  const opts = options();
  const buffer = await DiskBuffer.open(opts);
  await buffer.append(texts(10));
  await buffer.ack(await buffer.read({ ...all, maxEvents: 4 }, never));
  await buffer.close();
  const [path] = segments(opts.dir);
  const bytes = readFileSync(path!);
  bytes.writeUInt32LE(0xfffffff0, 13); // the second frame's length
  writeFileSync(path!, bytes);
  const { buffer: second, dropped, regions } = await reopen(opts);
  assert.equal(dropped, 0);
  assert.deepEqual(regions, []);
  assert.deepEqual((await second.read(all, never)).records.map(String), [
    'e0004',
    'e0005',
    'e0006',
    'e0007',
    'e0008',
    'e0009',
  ]);
  await second.close();
});

test('a stale cursor never applies to a new segment that reuses its id', async () => {
  const opts = options();
  const first = await DiskBuffer.open(opts);
  await first.append(texts(4));
  await first.ack(await first.read({ ...all, maxEvents: 2 }, never));
  await first.close();
  for (const path of segments(opts.dir)) truncateSync(path, 0); // the whole segment gone
  const second = await DiskBuffer.open(opts); // its new segment takes id 0 again
  await second.append(texts(3, 'new'));
  await second.close();
  const { buffer: third } = await reopen(opts);
  assert.equal(third.pendingEvents, 3);
  assert.deepEqual((await third.read(all, never)).records.map(String), [
    'new0000',
    'new0001',
    'new0002',
  ]);
  await third.close();
});
