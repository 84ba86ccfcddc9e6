/**
 * The decode pool against the paths it replaces, on one seeded mixed log
 * (real ModSecurity 3.0.9 JSON and Native records, records with multi-byte
 * text, and every kind of malformed input): the frames, their order, the
 * skipped records with their lines and reasons, and the checkpoints are
 * exactly those of decoding on the framing worker, and the events and
 * findings those of the main thread's decoder (the file source's). Then a
 * thread that really exits mid-run, and a pool that is closed.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { makeDataDir } from '../../../test/support/keepwire-process.ts';
import {
  jsonRecords,
  nativeRecord,
  nativeRecords,
} from '../../../test/support/modsecurity-fixtures.ts';
import { seededRandom, testSeed } from '../../../test/support/seeded-random.ts';
import { DecodePool } from './decode-pool.ts';
import { type FileCheckpoint, FrameWorker } from './frame-worker.ts';
import { ModsecurityDecoding } from './framing/modsecurity-decoding.ts';
import { packRecords } from './framing/record-batch.ts';
import type { InputReject } from './framing/record-framer.ts';

const closers: { close(): Promise<void> }[] = [];
after(() => Promise.all(closers.map((closer) => closer.close())));

const MAX_RECORD_BYTES = 1024 * 1024;

/** A serial log of `count` records drawn with `random`: valid ones of both formats and malformed ones. */
function mixedLog(count: number, random: () => number): string {
  const json = jsonRecords('real-3.0.9/json-serial.log');
  const native = nativeRecords('real-3.0.9/native-serial.log');
  const parts: string[] = [];
  for (let i = 0; i < count; i++) {
    const pick = random();
    const id = `${i}`.padStart(8, 'k');
    if (pick < 0.4) {
      const record = JSON.parse(json[i % json.length]!);
      record.transaction.unique_id = `u${i}`;
      if (random() < 0.3) record.transaction.request.uri = `/é/€/😀?q=${i}`;
      parts.push(`${JSON.stringify(record)}\n`);
    } else if (pick < 0.65) {
      parts.push(native[i % native.length]!);
    } else if (pick < 0.75) {
      const line = json[i % json.length]!;
      parts.push(`${line.slice(0, 1 + Math.floor(random() * (line.length - 2)))}\n`);
    } else if (pick < 0.83) {
      parts.push(nativeRecord(id, random() < 0.5, false));
    } else if (pick < 0.9) {
      parts.push('\u0000\u00ff\u0001garbage\u0002\n');
    } else if (pick < 0.95) {
      parts.push(
        `127.0.0.1 - - [23/Nov/2026:04:39:13 +0000] "GET / HTTP/1.1" 200 0 "-" "-" ${id} "-" ` +
          `/var/log/modsec/20261123/20261123-0439/20261123-043913-${id} 0 200.000000 md5:0\n`,
      );
    } else {
      parts.push(nativeRecord(id, random() < 0.5));
    }
  }
  return parts.join('');
}

interface Read {
  readonly frames: Buffer;
  readonly rejects: InputReject[];
  readonly checkpoints: (FileCheckpoint | undefined)[];
}

async function readAll(worker: FrameWorker, path: string, chunkBytes: number): Promise<Read> {
  const frames: Buffer[] = [];
  const rejects: InputReject[] = [];
  const checkpoints: (FileCheckpoint | undefined)[] = [];
  // Several chunks in hand at once, as `keepwire ship` keeps them, so the threads overlap.
  const inputs = [];
  for await (const input of worker.frameFile(path, chunkBytes, 8)) inputs.push(input);
  for (const input of inputs) {
    const framed = await input.framed;
    frames.push(Buffer.from(framed.frames));
    rejects.push(...framed.rejects);
    checkpoints.push(input.checkpoint);
  }
  return { frames: Buffer.concat(frames), rejects, checkpoints };
}

/** The payloads of `u32le length | u32le crc32c | payload` frames. */
function payloads(frames: Buffer): string[] {
  const out: string[] = [];
  for (let at = 0; at < frames.length; at += 8 + frames.readUInt32LE(at))
    out.push(frames.toString('utf8', at + 8, at + 8 + frames.readUInt32LE(at)));
  return out;
}

test('decoded on a pool of threads, a log gives the framing worker’s frames, in order, and the same skipped records', async () => {
  const random = seededRandom(testSeed('decode pool mixed log'));
  const dir = makeDataDir('kw-decode-pool-');
  const path = join(dir, 'audit.log');
  writeFileSync(path, mixedLog(400, random));
  const single = new FrameWorker({
    maxLineBytes: MAX_RECORD_BYTES,
    check: 'json',
    from: 'modsecurity',
  });
  const pool = new DecodePool({ threads: 3 });
  const pooled = new FrameWorker(
    { maxLineBytes: MAX_RECORD_BYTES, check: 'json', from: 'modsecurity' },
    pool,
  );
  closers.push(single, pooled, pool);

  for (const chunkBytes of [4096, 64 * 1024]) {
    const expected = await readAll(single, path, chunkBytes);
    const actual = await readAll(pooled, path, chunkBytes);
    assert.ok(expected.checkpoints.length > 5, 'several batches in flight');
    assert.ok(actual.frames.equals(expected.frames), `frames, in order (${chunkBytes} B chunks)`);
    assert.deepEqual(actual.rejects, expected.rejects);
    assert.deepEqual(actual.checkpoints, expected.checkpoints);
  }

  // The main thread's decoder (the file source's) finds the same events and the same faults.
  const found: InputReject[] = [];
  const decoding = new ModsecurityDecoding({
    maxRecordBytes: MAX_RECORD_BYTES,
    onMalformed: ({ reason, line, detail }) => found.push([reason, line, detail]),
  });
  const events = [...decoding.push(readFileSync(path)), ...decoding.end()];
  const { frames, rejects } = await readAll(pooled, path, 4096);
  assert.deepEqual(
    payloads(frames),
    events.map((event) => event.toString()),
  );
  assert.deepEqual(
    rejects,
    found.sort((a, b) => a[1] - b[1]),
  );
  const reasons = new Set(rejects.map(([reason]) => reason));
  for (const reason of ['invalid', 'missing_end', 'garbage', 'missing_file'])
    assert.ok(reasons.has(reason as InputReject[0]), `the log has ${reason} records`);
  assert.ok(events.length > 100);
});

/**
 * test/support/crashing-decode-thread.ts dying at batch `at`: a Worker given
 * a file URL drops its query, a module imported by a data: URL keeps it.
 */
function crashingThread(at: number): URL {
  const fixture = new URL('../../../test/support/crashing-decode-thread.ts', import.meta.url);
  return new URL(`data:text/javascript,import ${JSON.stringify(`${fixture.href}?at=${at}`)};`);
}

test('a decode thread that dies fails the batches it held and every later one, with SHIP_DECODE_THREAD_FAILED', async () => {
  const pool = new DecodePool({
    threads: 1,
    threadUrl: crashingThread(3),
  });
  closers.push(pool);
  const record = jsonRecords('real-3.0.9/json-serial.log')[0]!;
  const line = (n: number) => ({ text: record, line: n });
  // Batches 1 and 2 answered first: an answer still on its way when the thread dies is failed
  // with the rest (the error and the answers travel on different channels), so wait for them.
  const answered = [1, 2].map((n) => pool.decode(packRecords([line(n), line(n + 10)])));
  assert.deepEqual(
    (await Promise.all(answered)).map((batch) => batch.events),
    [2, 2],
  );
  const batches = [3, 4].map((n) => pool.decode(packRecords([line(n), line(n + 10)])));
  for (const batch of batches) batch.catch(() => {}); // awaited below, in order
  for (const failed of [batches[0]!, batches[1]!, pool.decode(packRecords([line(5)]))]) {
    await assert.rejects(failed, (error: Error & { code?: string }) => {
      assert.equal(error.code, 'SHIP_DECODE_THREAD_FAILED');
      assert.match(error.message, /crash at batch 3/);
      return true;
    });
  }
});

test('a closed pool refuses batches, and its threads are gone: a process that used one exits by itself', async () => {
  const poolUrl = new URL('./decode-pool.ts', import.meta.url).href;
  const recordBatch = new URL('./framing/record-batch.ts', import.meta.url).href;
  const script = `
    import { DecodePool } from ${JSON.stringify(poolUrl)};
    import { packRecords } from ${JSON.stringify(recordBatch)};
    const pool = new DecodePool({ threads: 3 });
    const record = ${JSON.stringify(jsonRecords('real-3.0.9/json-serial.log')[0])};
    const framed = await Promise.all([1, 2, 3].map((line) => pool.decode(packRecords([{ text: record, line }]))));
    await pool.close();
    const refused = await pool.decode(packRecords([{ text: record, line: 4 }])).then(() => 'taken', (error) => error.code);
    console.log(JSON.stringify({ events: framed.map((f) => f.events), refused }));
  `;
  // A file, not --eval: threads inherit the process's flags (--input-type would fail them).
  const path = join(makeDataDir('kw-decode-pool-close-'), 'close.mjs');
  writeFileSync(path, script);
  const child = spawn(process.execPath, [path], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (chunk) => {
    out += chunk;
  });
  const deadline = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const [code, signal] = await once(child, 'exit');
  clearTimeout(deadline);
  assert.equal(signal, null, 'the process ended by itself (a running thread would keep it alive)');
  assert.equal(code, 0);
  assert.deepEqual(JSON.parse(out), { events: [1, 1, 1], refused: 'SHIP_DECODE_THREAD_FAILED' });
});
