import assert from 'node:assert/strict';
import { appendFileSync, copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { makeDataDir } from '../../../../test/support/keepwire-process.ts';
import { createLogger, createRegistry } from '../../../telemetry/index.ts';
import { MemoryBuffer } from '../../buffer/memory.ts';
import { PipelineMetrics } from '../../pipeline-metrics.ts';
import { FileSource } from './file-source.ts';
import { fileSourceSchema } from './schema.ts';

const REAL = new URL('../../../../test/fixtures/modsecurity/real-3.0.9/', import.meta.url).pathname;

function makeSource(dir: string, buffer: MemoryBuffer, include: string, storageDir?: string) {
  const metrics = new PipelineMetrics(createRegistry({ processMetrics: false }));
  const source = new FileSource({
    name: 'modsec',
    config: fileSourceSchema.parse({
      type: 'file',
      include: [include],
      format: 'modsecurity',
      storageDir,
      pollIntervalMs: 20,
    }),
    checkpointPath: join(dir, 'checkpoints', 'modsec.json'),
    logger: createLogger({ level: 'silent' }),
    metrics,
    append: (records) => buffer.append(records),
  });
  return { source, metrics };
}

/** The event ids of the next `count` events. */
async function take(buffer: MemoryBuffer, count: number): Promise<string[]> {
  const seen: string[] = [];
  const signal = AbortSignal.timeout(5000);
  while (seen.length < count) {
    const batch = await buffer.read({ maxEvents: 100, maxBytes: 1 << 22, lingerMs: 0 }, signal);
    seen.push(...batch.records.map((record) => JSON.parse(String(record)).event.id));
    await buffer.ack(batch);
  }
  return seen;
}

const nativeRecords = () =>
  readFileSync(join(REAL, 'native-serial.log'), 'utf8').split(/(?=^---\w{8}---A--$)/m);
const idOf = (record: string) => /^\[[^\]]+\] (\S+) /m.exec(record)![1]!;

test('a Native serial log written a piece at a time: each record once, a restart resumes at the next whole record', async () => {
  const dir = makeDataDir('kw-tail-modsec-');
  const log = join(dir, 'audit.log');
  const records = nativeRecords();
  writeFileSync(log, records[0]!);
  const buffer = new MemoryBuffer({ maxEvents: 1000 });
  const first = makeSource(dir, buffer, join(dir, '*.log'));
  await first.source.start();
  assert.deepEqual(await take(buffer, 1), [idOf(records[0]!)]);
  // Half of the next record, up to the middle of its H section: nothing yet.
  const cut = records[1]!.indexOf('ModSecurity: ') + 40;
  appendFileSync(log, records[1]!.slice(0, cut));
  await new Promise((resolve) => setTimeout(resolve, 100)); // several polls
  assert.equal(buffer.pendingEvents, 0, 'a record without its Z boundary is not read yet');
  await first.source.stop();

  // The checkpoint is at the end of record 0: the restart reads record 1 whole.
  appendFileSync(log, records[1]!.slice(cut) + records[2]!);
  const second = makeSource(dir, buffer, join(dir, '*.log'));
  await second.source.start();
  assert.deepEqual(await take(buffer, 2), [idOf(records[1]!), idOf(records[2]!)]);
  await second.source.stop();
  assert.equal(buffer.pendingEvents, 0);
});

test('a concurrent index followed as it grows, its files read from the storage directory; a missing file counted', async () => {
  const dir = makeDataDir('kw-tail-modsec-index-');
  const index = join(dir, 'index.log');
  const lines = readFileSync(join(REAL, 'concurrent', 'index.log'), 'utf8')
    .trim()
    .split('\n');
  const storage = join(dir, 'storage');
  const named = (line: string) => line.split(' ').at(-4)!.split('/').slice(-3);
  for (const line of lines.slice(0, 3)) {
    const parts = named(line);
    mkdirSync(join(storage, parts[0]!, parts[1]!), { recursive: true });
    copyFileSync(join(REAL, 'concurrent', ...parts), join(storage, ...parts));
  }
  const idOfLine = (line: string) => named(line)[2]!.split('-').at(-1)!;
  writeFileSync(index, `${lines[0]}\n`);
  const buffer = new MemoryBuffer({ maxEvents: 1000 });
  const { source, metrics } = makeSource(dir, buffer, index, storage);
  await source.start();
  assert.deepEqual(await take(buffer, 1), [idOfLine(lines[0]!)]);
  appendFileSync(index, `${lines[1]}\n${lines[5]}\n${lines[2]}\n`); // lines[5]'s file is missing
  assert.deepEqual(await take(buffer, 2), [idOfLine(lines[1]!), idOfLine(lines[2]!)]);
  await source.stop();
  const rejected = await metrics.rejected.get();
  assert.deepEqual(
    rejected.values.map(({ labels, value }) => [labels.reason, value]),
    [['missing_file', 1]],
  );
});
