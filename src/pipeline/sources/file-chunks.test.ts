import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { makeDataDir } from '../../../test/support/keepwire-process.ts';
import { DiskBuffer } from '../buffer/disk/disk-buffer.ts';
import { readFileChunks } from './file-chunks.ts';
import { readStreamInto } from './stream-input.ts';

test('lines cut across reused chunk buffers reach the disk buffer whole and in order', async () => {
  const dir = makeDataDir('kw-chunks-');
  const lines = Array.from({ length: 200 }, (_, i) =>
    JSON.stringify({ seq: i, pad: 'x'.repeat(i % 13) }),
  );
  const path = join(dir, 'in.ndjson');
  writeFileSync(path, `${lines.join('\n')}\n`);
  const buffer = await DiskBuffer.open({
    dir: join(dir, 'b'),
    maxSizeBytes: 1 << 20,
    fsync: 'never',
    whenFull: 'block',
  });
  const events = await readStreamInto(readFileChunks(path, 7), {
    maxLineBytes: 1024,
    append: (records) => buffer.append(records),
    onReject: () => assert.fail('no line is invalid'),
  });
  assert.equal(events, 200);
  const batch = await buffer.read(
    { maxEvents: 1000, maxBytes: 1 << 20, lingerMs: 0 },
    new AbortController().signal,
  );
  assert.deepEqual(batch.records.map(String), lines);
  await buffer.close();
});
