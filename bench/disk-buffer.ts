/**
 * The disk buffer's hot path: append + read + ack throughput (events/s and
 * MB/s of framed bytes) against the disk's raw sequential write bandwidth,
 * measured in the same run on the same directory: a dd-like loop writing the
 * same number of bytes in the same write sizes with the same fsync policy.
 *
 *   node bench/disk-buffer.ts [--events 200000] [--event-bytes 1500]
 *        [--batch 500] [--fsync 1000|always|never] [--runs 5]
 *
 * Appends are issued 4 at a time (as concurrent sources would) and a reader
 * drains and acknowledges batches concurrently, so the timing covers the
 * whole life of an event in the buffer.
 */
import { closeSync, fdatasyncSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DiskBuffer, type FsyncPolicy } from '../src/pipeline/buffer/disk/disk-buffer.ts';
import { median } from './median.ts';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '200000' },
    'event-bytes': { type: 'string', default: '1500' },
    batch: { type: 'string', default: '500' },
    fsync: { type: 'string', default: '1000' },
    runs: { type: 'string', default: '5' },
    dir: { type: 'string', default: tmpdir() },
  },
});
const events = Number(values.events);
const eventBytes = Number(values['event-bytes']);
const batchSize = Number(values.batch);
const fsync: FsyncPolicy =
  values.fsync === 'always' || values.fsync === 'never' ? values.fsync : Number(values.fsync);
const runs = Number(values.runs);

const record = Buffer.from(`{"seq":0,"pad":"${'x'.repeat(Math.max(0, eventBytes - 20))}"}`);
const batch = Array.from({ length: batchSize }, () => record);
const framedBytes = events * (record.length + 8);

async function runBuffer(dir: string): Promise<number> {
  const buffer = await DiskBuffer.open({
    dir,
    maxSizeBytes: 8 * framedBytes,
    fsync,
    whenFull: 'block',
  });
  const started = performance.now();
  let appended = 0;
  const writers = Array.from({ length: 4 }, async () => {
    while (appended < events) {
      appended += batchSize;
      await buffer.append(batch);
    }
  });
  let acked = 0;
  const signal = new AbortController().signal;
  const reader = (async () => {
    while (acked < events) {
      const read = await buffer.read({ maxEvents: 1000, maxBytes: 4 << 20, lingerMs: 0 }, signal);
      await buffer.ack(read);
      acked += read.records.length;
    }
  })();
  await Promise.all([...writers, reader]);
  await buffer.close();
  return performance.now() - started;
}

function runRaw(path: string): number {
  const chunk = Buffer.alloc((record.length + 8) * batchSize, 120);
  const started = performance.now();
  const fd = openSync(path, 'w');
  let lastSync = performance.now();
  for (let written = 0; written < framedBytes; written += chunk.length) {
    writeSync(fd, chunk);
    if (fsync === 'always') fdatasyncSync(fd);
    else if (typeof fsync === 'number' && performance.now() - lastSync >= fsync) {
      fdatasyncSync(fd);
      lastSync = performance.now();
    }
  }
  if (fsync !== 'never') fdatasyncSync(fd);
  closeSync(fd);
  return performance.now() - started;
}

const bufferMs: number[] = [];
const rawMs: number[] = [];
for (let run = 0; run < runs; run++) {
  const dir = mkdtempSync(join(values.dir, 'kw-bench-buffer-'));
  try {
    rawMs.push(runRaw(join(dir, 'raw')));
    rmSync(join(dir, 'raw'));
    bufferMs.push(await runBuffer(join(dir, 'buffer')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
const mb = framedBytes / 1e6;
const buffer = median(bufferMs);
const raw = median(rawMs);
console.log(
  `disk buffer, ${events} events of ${record.length} B, appends of ${batchSize}, fsync=${values.fsync}, median of ${runs}:`,
);
console.log(
  `  buffer append+read+ack  ${Math.round(events / (buffer / 1000)).toLocaleString('en')} events/s  ${(mb / (buffer / 1000)).toFixed(0)} MB/s`,
);
console.log(`  raw sequential write    ${(mb / (raw / 1000)).toFixed(0)} MB/s`);
console.log(`  ratio buffer / raw      ${(raw / buffer).toFixed(2)}`);
