import assert from 'node:assert/strict';
import {
  appendFileSync,
  closeSync,
  openSync,
  renameSync,
  truncateSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { makeDataDir } from '../../../../test/support/keepwire-process.ts';
import { createLogger, createRegistry } from '../../../telemetry/index.ts';
import { MemoryBuffer } from '../../buffer/memory.ts';
import { PipelineMetrics } from '../../pipeline-metrics.ts';
import { FileSource } from './file-source.ts';
import { fileSourceSchema } from './schema.ts';

function makeSource(
  dir: string,
  buffer: MemoryBuffer,
  readFrom: 'start' | 'end' = 'start',
  rotateWaitMs?: number,
) {
  return new FileSource({
    name: 'tail',
    config: fileSourceSchema.parse({
      type: 'file',
      include: [join(dir, '*.log')],
      readFrom,
      pollIntervalMs: 20,
      rotateWaitMs,
    }),
    checkpointPath: join(dir, 'checkpoints', 'tail.json'),
    logger: createLogger({ level: 'silent' }),
    metrics: new PipelineMetrics(createRegistry({ processMetrics: false })),
    append: (records) => buffer.append(records),
  });
}

async function take(buffer: MemoryBuffer, count: number): Promise<string[]> {
  const seen: string[] = [];
  const signal = AbortSignal.timeout(5000);
  while (seen.length < count) {
    const batch = await buffer.read({ maxEvents: 100, maxBytes: 1 << 20, lingerMs: 0 }, signal);
    seen.push(...batch.records.map((record) => JSON.parse(String(record)).n));
    await buffer.ack(batch);
  }
  return seen;
}

const lines = (...ns: number[]) => ns.map((n) => `{"n":${n}}\n`).join('');

test('tails a glob across rotation, truncation and a restart without skipping or re-reading', async () => {
  const dir = makeDataDir('kw-tail-');
  const log = join(dir, 'audit.log');
  writeFileSync(log, lines(1, 2));
  const buffer = new MemoryBuffer({ maxEvents: 1000 });
  const first = makeSource(dir, buffer);
  await first.start();
  assert.deepEqual(await take(buffer, 2), [1, 2]);
  appendFileSync(log, `${lines(3)}{"n":4`); // a half-written line waits for its newline
  assert.deepEqual(await take(buffer, 1), [3]);
  appendFileSync(log, '}\n');
  assert.deepEqual(await take(buffer, 1), [4]);
  // Rotation: the old inode gets one more line after the rename; a new file appears.
  renameSync(log, join(dir, 'audit.1'));
  appendFileSync(join(dir, 'audit.1'), lines(5));
  writeFileSync(log, lines(6));
  assert.deepEqual((await take(buffer, 2)).sort(), [5, 6]);
  await first.stop();

  // A restart resumes at the checkpoint: nothing re-read, the new line read.
  appendFileSync(log, lines(7));
  const second = makeSource(dir, buffer, 'end');
  await second.start();
  assert.deepEqual(await take(buffer, 1), [7]);
  // Truncation: the file shrinks, it is read again from its start.
  truncateSync(log, 0);
  appendFileSync(log, lines(8));
  assert.deepEqual(await take(buffer, 1), [8]);
  await second.stop();
  assert.equal(buffer.pendingEvents, 0);
});

test('a writer that appends to the rotated file until it reopens loses nothing within rotateWaitMs', async () => {
  const dir = makeDataDir('kw-tail-');
  const log = join(dir, 'audit.log');
  const rotated = join(dir, 'audit.1');
  writeFileSync(log, lines(1));
  const buffer = new MemoryBuffer({ maxEvents: 1000 });
  const source = makeSource(dir, buffer, 'start', 600);
  await source.start();
  assert.deepEqual(await take(buffer, 1), [1]);
  // logrotate without copytruncate: rename, new file; the writer (nginx,
  // ModSecurity) keeps its descriptor and writes on until it is signalled.
  const writer = openSync(log, 'a');
  renameSync(log, rotated);
  writeFileSync(log, lines(10));
  assert.deepEqual(await take(buffer, 1), [10], 'the rotation is seen, the new file read');
  writeSync(writer, lines(2)); // after the rotation was seen
  assert.deepEqual(await take(buffer, 1), [2]);
  await new Promise((resolve) => setTimeout(resolve, 700)); // past rotateWaitMs
  writeSync(writer, lines(3)); // too late: no longer read
  closeSync(writer);
  appendFileSync(log, lines(11));
  assert.deepEqual(await take(buffer, 1), [11]);
  await source.stop();
  assert.equal(buffer.pendingEvents, 0, 'line 3, written after the wait, was not read');
});

test('readFrom end skips what a file held before the first start', async () => {
  const dir = makeDataDir('kw-tail-');
  writeFileSync(join(dir, 'old.log'), lines(1, 2));
  const buffer = new MemoryBuffer({ maxEvents: 1000 });
  const source = makeSource(dir, buffer, 'end');
  await source.start();
  appendFileSync(join(dir, 'old.log'), lines(3));
  assert.deepEqual(await take(buffer, 1), [3]);
  await source.stop();
});

test('a full buffer pauses the file; nothing is skipped once there is room', async () => {
  const dir = makeDataDir('kw-tail-');
  writeFileSync(join(dir, 'big.log'), lines(1, 2, 3, 4, 5, 6, 7));
  const buffer = new MemoryBuffer({ maxEvents: 2, retryAfterMs: 20 });
  const source = new FileSource({
    name: 'tail',
    config: fileSourceSchema.parse({
      type: 'file',
      include: [join(dir, '*.log')],
      pollIntervalMs: 20,
      readChunkBytes: 64,
    }),
    checkpointPath: join(dir, 'checkpoints', 'tail.json'),
    logger: createLogger({ level: 'silent' }),
    metrics: new PipelineMetrics(createRegistry({ processMetrics: false })),
    append: (records) => buffer.append(records),
  });
  await source.start();
  assert.deepEqual(await take(buffer, 7), [1, 2, 3, 4, 5, 6, 7]);
  await source.stop();
});
