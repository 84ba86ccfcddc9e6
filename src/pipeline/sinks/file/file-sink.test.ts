import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { createLogger, createRegistry } from '../../../telemetry/index.ts';
import { fileSinkSchema } from './config.ts';
import { createFileSinkService } from './index.ts';

const dir = mkdtempSync(join(tmpdir(), 'keepwire-file-sink-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const deps = {
  name: 'out',
  dataDir: dir,
  registry: createRegistry({ processMetrics: false }),
  logger: createLogger({ level: 'silent' }),
};
const signal = new AbortController().signal;

function batch(from: number, count: number): Buffer[] {
  // 100 bytes per line with its newline.
  return Array.from({ length: count }, (_, index) =>
    Buffer.from(JSON.stringify({ seq: from + index, pad: '' }).padEnd(99, ' ')),
  );
}

test('the embedded default writes NDJSON under DATA_DIR/out/', async () => {
  const service = createFileSinkService(fileSinkSchema.parse({ type: 'file' }), deps);
  await service.send([Buffer.from('{"a":1}'), Buffer.from('{"b":2}')], signal);
  await service.send([Buffer.from('{"c":3}')], signal);
  await service.close();
  assert.equal(
    readFileSync(join(dir, 'out', 'events.ndjson'), 'utf8'),
    '{"a":1}\n{"b":2}\n{"c":3}\n',
  );
});

test('rotates by size without splitting a batch and keeps at most maxFiles', async () => {
  const path = join(dir, 'rot', 'e.ndjson');
  const config = fileSinkSchema.parse({ type: 'file', path, maxFileBytes: 1024, maxFiles: 2 });
  const service = createFileSinkService(config, deps);
  // Four batches of 6 lines (600 bytes): each one starts a new file.
  for (let index = 0; index < 4; index += 1) await service.send(batch(index * 6, 6), signal);
  await service.close();
  const seqs = (file: string) =>
    readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((line) => (JSON.parse(line) as { seq: number }).seq);
  assert.deepEqual(seqs(path), [18, 19, 20, 21, 22, 23]);
  assert.deepEqual(seqs(`${path}.1`), [12, 13, 14, 15, 16, 17]);
  assert.deepEqual(seqs(`${path}.2`), [6, 7, 8, 9, 10, 11]);
  assert.equal(existsSync(`${path}.3`), false);
});

test('reopening appends to the existing file and keeps counting its size', async () => {
  const path = join(dir, 'reopen.ndjson');
  const config = fileSinkSchema.parse({ type: 'file', path, maxFileBytes: 1024, maxFiles: 3 });
  const first = createFileSinkService(config, deps);
  await first.send(batch(0, 6), signal);
  await first.close();
  const second = createFileSinkService(config, deps);
  await second.send(batch(6, 6), signal);
  await second.close();
  assert.equal(readFileSync(`${path}.1`, 'utf8').split('\n').length - 1, 6);
  assert.equal(readFileSync(path, 'utf8').split('\n').length - 1, 6);
});
