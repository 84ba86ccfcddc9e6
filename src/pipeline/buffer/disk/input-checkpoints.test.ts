/**
 * Input checkpoints committed inside the disk buffer (input-checkpoints.ts):
 * given back after a reopen exactly as of the last whole append, an append
 * torn by a crash cut whole (with its checkpoint, nothing counted as lost),
 * never lost when delivered segments are deleted, and never handed out as
 * events. A buffer written before checkpoints existed opens as it did.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { diskBufferOptions, texts } from '../../../../test/support/disk-buffer-options.ts';
import { DiskBuffer, type DiskBufferOptions } from './disk-buffer.ts';
import { encodeFrames, FRAME_HEADER_BYTES, frameBytes } from './record-frame.ts';

const never = new AbortController().signal;
const all = { maxEvents: 100_000, maxBytes: 1 << 30, lingerMs: 0 };

function framed(records: readonly Buffer[]): Buffer {
  return encodeFrames(records, frameBytes(records));
}

function segments(dir: string): string[] {
  return readdirSync(dir)
    .filter((name) => name.endsWith('.seg'))
    .sort();
}

async function drain(buffer: DiskBuffer): Promise<string[]> {
  const out: string[] = [];
  while (buffer.pendingEvents > 0) {
    const batch = await buffer.read(all, never);
    out.push(...batch.records.map(String));
    await buffer.ack(batch);
  }
  return out;
}

/** Opens the buffer in `opts.dir`, counting what recovery reports as damaged. */
async function reopen(opts: DiskBufferOptions): Promise<{ buffer: DiskBuffer; damage: number }> {
  let damage = 0;
  const buffer = await DiskBuffer.open({ ...opts, onDamage: () => (damage += 1) });
  return { buffer, damage };
}

test('checkpoints come back after a reopen as of the last append; they are never events', async () => {
  const opts = diskBufferOptions({ fsync: 'never' });
  const buffer = await DiskBuffer.open(opts);
  assert.deepEqual(buffer.inputs, {});
  await buffer.appendFrames(framed(texts(3, 'a')), 3, { 'in-a': { offset: 30 } });
  await buffer.append(texts(1, 'plain'));
  await buffer.appendFrames(framed(texts(2, 'b')), 2, { 'in-b': { offset: 7 } });
  await buffer.appendFrames(Buffer.alloc(0), 0, { 'in-a': { offset: 31 } }); // a chunk of rejects only
  assert.deepEqual(buffer.inputs, { 'in-a': { offset: 31 }, 'in-b': { offset: 7 } });
  assert.equal(buffer.pendingEvents, 6);
  assert.deepEqual(await drain(buffer), ['a0', 'a1', 'a2', 'plain0', 'b0', 'b1']);
  await buffer.close();

  const { buffer: again, damage } = await reopen(opts);
  assert.equal(damage, 0);
  assert.deepEqual(again.inputs, { 'in-a': { offset: 31 }, 'in-b': { offset: 7 } });
  assert.equal(again.pendingEvents, 0);
  await again.close();
});

test('appends grouped in one write each commit their own checkpoint, in order', async () => {
  const opts = diskBufferOptions({ fsync: 'always' });
  const buffer = await DiskBuffer.open(opts);
  const appends = [];
  for (let i = 0; i < 20; i++)
    appends.push(buffer.appendFrames(framed(texts(2, `g${i}-`)), 2, { file: { offset: i } }));
  await Promise.all(appends);
  await buffer.close();
  const { buffer: again } = await reopen(opts);
  assert.deepEqual(again.inputs, { file: { offset: 19 } });
  assert.equal((await drain(again)).length, 40);
  await again.close();
});

for (const [name, cutFromEnd] of [
  ['inside an event frame', 3],
  ['at a frame boundary', FRAME_HEADER_BYTES + 5],
  ['inside the commit frame', undefined],
] as const) {
  test(`an append a crash tore (${name}) is cut whole with its checkpoint; nothing counts as lost`, async () => {
    const opts = diskBufferOptions({ fsync: 'never' });
    const buffer = await DiskBuffer.open(opts);
    await buffer.appendFrames(framed(texts(3, 'kept')), 3, { file: { offset: 100 } });
    const before = statSync(join(opts.dir, segments(opts.dir).at(-1)!)).size;
    await buffer.appendFrames(framed(texts(3, 'torn')), 3, { file: { offset: 200 } });
    await buffer.close();
    const path = join(opts.dir, segments(opts.dir).at(-1)!);
    // `torn0`..`torn2` are 5 bytes each: the last frame is 13 bytes.
    const cut =
      cutFromEnd === undefined ? before + FRAME_HEADER_BYTES + 3 : statSync(path).size - cutFromEnd;
    truncateSync(path, cut);
    const { buffer: again, damage } = await reopen(opts);
    assert.equal(damage, 0, 'an append never acknowledged is not a loss');
    assert.deepEqual(again.inputs, { file: { offset: 100 } });
    assert.deepEqual(await drain(again), ['kept0', 'kept1', 'kept2']);
    assert.equal(statSync(path).size, before, 'cut at the torn append’s commit frame');
    await again.close();
  });
}

test('deleting delivered segments never deletes the checkpoints: each new segment starts with them', async () => {
  const opts = diskBufferOptions({ fsync: 'never', segmentMaxBytes: 4096 });
  let buffer = await DiskBuffer.open(opts);
  const record = Buffer.alloc(500, 120);
  for (let i = 0; i < 40; i++)
    await buffer.appendFrames(framed([record, record]), 2, { file: { offset: i } });
  assert.ok(segments(opts.dir).length > 10);
  assert.equal((await drain(buffer)).length, 80);
  await buffer.close();
  assert.equal(segments(opts.dir).length, 1, 'the delivered segments are deleted');

  // Reopened with nothing to deliver: the fresh segment takes the checkpoints, the older one goes.
  for (let round = 0; round < 3; round++) {
    const { buffer: idle } = await reopen(opts);
    assert.deepEqual(idle.inputs, { file: { offset: 39 } });
    await idle.close();
    assert.deepEqual(
      segments(opts.dir).length,
      1,
      'reruns with nothing to do leave no segments behind',
    );
  }
  // Reopened and used: the old segment goes once the cursor passes it.
  for (let round = 0; round < 3; round++) {
    const { buffer: again } = await reopen(opts);
    buffer = again;
    assert.deepEqual(buffer.inputs, { file: { offset: 39 } });
    await buffer.append([Buffer.from(`plain${round}`)]);
    assert.deepEqual(await drain(buffer), [`plain${round}`]);
    await buffer.close();
    assert.equal(segments(opts.dir).length, 1);
  }
  const { buffer: last } = await reopen(opts);
  assert.deepEqual(last.inputs, { file: { offset: 39 } });
  await last.close();
});

test('a buffer written before checkpoints were kept (event frames only) opens as it did', async () => {
  const opts = diskBufferOptions();
  mkdirSync(opts.dir, { recursive: true });
  writeFileSync(join(opts.dir, `${'0'.repeat(19)}7.seg`), framed(texts(4, 'old')));
  const { buffer, damage } = await reopen(opts);
  assert.equal(damage, 0);
  assert.deepEqual(buffer.inputs, {});
  assert.deepEqual(await drain(buffer), ['old0', 'old1', 'old2', 'old3']);
  await buffer.close();
});
