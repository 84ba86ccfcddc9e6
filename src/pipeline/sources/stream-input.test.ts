import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { makeDataDir } from '../../../test/support/keepwire-process.ts';
import { DiskBuffer } from '../buffer/disk/disk-buffer.ts';
import { FrameWorker } from './frame-worker.ts';
import type { MalformedReason } from './framing/record-framer.ts';
import { frameChunks, readStreamInto } from './stream-input.ts';

const worker = new FrameWorker({ maxLineBytes: 64, check: 'json' });
after(() => worker.close());

async function openBuffer(dir: string, maxSizeBytes = 1 << 20): Promise<DiskBuffer> {
  return DiskBuffer.open({
    dir: join(dir, 'b'),
    maxSizeBytes,
    fsync: 'never',
    whenFull: 'block',
    retryAfterMs: 5,
  });
}

async function readAll(buffer: DiskBuffer): Promise<string[]> {
  const lines: string[] = [];
  while (buffer.pendingEvents > 0) {
    const batch = await buffer.read(
      { maxEvents: 1000, maxBytes: 1 << 20, lingerMs: 0 },
      new AbortController().signal,
    );
    lines.push(...batch.records.map(String));
    await buffer.ack(batch);
  }
  return lines;
}

test('a file read by the worker in 7-byte chunks reaches the disk buffer whole and in order', async () => {
  const dir = makeDataDir('kw-stream-input-');
  const lines = Array.from({ length: 200 }, (_, i) =>
    JSON.stringify({ seq: i, pad: 'x'.repeat(i % 13) }),
  );
  const path = join(dir, 'in.ndjson');
  writeFileSync(path, `${lines.join('\n')}\n`);
  const buffer = await openBuffer(dir);
  let inputBytes = 0;
  const events = await readStreamInto(worker.frameFile(path, 7, 3), {
    appendFrames: (frames, count) => buffer.appendFrames(frames, count),
    onReject: () => assert.fail('no line is invalid'),
    onAppended: (_, bytes) => {
      inputBytes += bytes;
    },
  });
  assert.equal(events, 200);
  assert.equal(inputBytes, `${lines.join('\n')}\n`.length);
  assert.deepEqual(await readAll(buffer), lines);
  await buffer.close();
});

test('bad lines are skipped and reported with their line numbers, per input; a last line without a newline counts', async () => {
  const dir = makeDataDir('kw-stream-input-');
  const buffer = await openBuffer(dir);
  const inputs = [
    ['{"a":1}', 'not json', `{"big":"${'y'.repeat(100)}"}`, '{"a":2}', '{"a":3'].join('\n'),
    ['{"b":1}', '', '[1]', '{"b":2}'].join('\r\n'),
  ];
  const rejects: [MalformedReason, number][] = [];
  for (const input of inputs) {
    // Chunks shared with other memory (as standard input's are): copied to the worker.
    const shared = Buffer.from(`####${input}####`);
    const chunk = shared.subarray(4, shared.length - 4);
    await readStreamInto(frameChunks([chunk], worker), {
      appendFrames: (frames, count) => buffer.appendFrames(frames, count),
      onReject: (reason, line) => rejects.push([reason, line]),
    });
    assert.equal(String(chunk), input, 'the caller still owns its chunk');
  }
  assert.deepEqual(rejects, [
    ['invalid', 2],
    ['too_large', 3],
    ['invalid', 5],
    ['invalid', 3],
  ]);
  assert.deepEqual(await readAll(buffer), ['{"a":1}', '{"a":2}', '{"b":1}', '{"b":2}']);
  await buffer.close();
});

test('a full buffer is waited out, and an append larger than the buffer is split at frame boundaries', async () => {
  const dir = makeDataDir('kw-stream-input-');
  // 40 events of 24 bytes framed = 1,280 bytes: never fits in 300 at once.
  const buffer = await openBuffer(dir, 300);
  const lines = Array.from({ length: 40 }, (_, i) => JSON.stringify({ n: 1000 + i, p: 'abc' }));
  const received: string[] = [];
  const draining = (async () => {
    while (received.length < lines.length) {
      const batch = await buffer.read(
        { maxEvents: 3, maxBytes: 1 << 20, lingerMs: 0 },
        new AbortController().signal,
      );
      received.push(...batch.records.map(String));
      await new Promise((resolve) => setTimeout(resolve, 2));
      await buffer.ack(batch);
    }
  })();
  const events = await readStreamInto(frameChunks([Buffer.from(`${lines.join('\n')}\n`)], worker), {
    appendFrames: (frames, count) => buffer.appendFrames(frames, count),
    onReject: () => assert.fail('no line is invalid'),
  });
  await draining;
  assert.equal(events, 40);
  assert.deepEqual(received, lines);
  await buffer.close();
});

test('files read by the worker: rejects numbered per file, a missing file is an error, an abandoned file is cancelled', async () => {
  const dir = makeDataDir('kw-stream-input-');
  const buffer = await openBuffer(dir);
  const first = join(dir, 'first.ndjson');
  const second = join(dir, 'second.ndjson');
  writeFileSync(first, ['{"a":1}', 'not json', '{"a":2}'].join('\n'));
  writeFileSync(second, ['[1]', '{"b":1}'].join('\r\n'));
  const rejects: [MalformedReason, number][] = [];
  for (const path of [first, second]) {
    await readStreamInto(worker.frameFile(path, 5, 2), {
      appendFrames: (frames, count) => buffer.appendFrames(frames, count),
      onReject: (reason, line) => rejects.push([reason, line]),
    });
  }
  assert.deepEqual(rejects, [
    ['invalid', 2],
    ['invalid', 1],
  ]);
  assert.deepEqual(await readAll(buffer), ['{"a":1}', '{"a":2}', '{"b":1}']);

  await assert.rejects(
    readStreamInto(worker.frameFile(join(dir, 'missing.ndjson'), 1 << 20, 2), {
      appendFrames: () => assert.fail('nothing to append'),
      onReject: () => assert.fail('nothing to reject'),
    }),
    (error: NodeJS.ErrnoException) =>
      error.code === 'ENOENT' && /missing\.ndjson/.test(error.message),
  );

  // Stopped after the first chunk of a long file (as a failed append stops
  // it): the worker drops the rest, and the next input starts afresh.
  const long = join(dir, 'long.ndjson');
  writeFileSync(
    long,
    `${Array.from({ length: 500 }, (_, i) => JSON.stringify({ i })).join('\n')}\n`,
  );
  for await (const { framed } of worker.frameFile(long, 64, 4)) {
    assert.ok((await framed).events > 0);
    break;
  }
  const events = await readStreamInto(frameChunks([Buffer.from('{"after":1}\n')], worker), {
    appendFrames: (frames, count) => buffer.appendFrames(frames, count),
    onReject: () => assert.fail('no line is invalid'),
  });
  assert.equal(events, 1);
  assert.deepEqual(await readAll(buffer), ['{"after":1}']);
  await buffer.close();
});
