/**
 * A file read by the framing worker resumed at any checkpoint its replies
 * gave (what `keepwire ship --data-dir` does after an interruption): the
 * frames before the checkpoint plus the frames of a fresh read from it are
 * exactly the frames of one whole read, for NDJSON and for ModSecurity logs
 * (JSON, v2 and v3 Native records, concurrent index lines), with the same
 * line numbers in what is skipped.
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { makeDataDir } from '../../../test/support/keepwire-process.ts';
import { nativeRecord } from '../../../test/support/modsecurity-fixtures.ts';
import { type FileCheckpoint, FrameWorker, type FrameWorkerOptions } from './frame-worker.ts';

const workers: FrameWorker[] = [];
after(() => Promise.all(workers.map((worker) => worker.close())));

interface Reply {
  readonly frames: Buffer;
  readonly rejects: string[];
  readonly checkpoint: FileCheckpoint | undefined;
}

async function read(
  worker: FrameWorker,
  path: string,
  chunkBytes: number,
  start?: FileCheckpoint,
): Promise<Reply[]> {
  const replies: Reply[] = [];
  for await (const input of worker.frameFile(path, chunkBytes, 2, start)) {
    const { frames, rejects } = await input.framed;
    replies.push({
      frames: Buffer.from(frames),
      rejects: rejects.map(([reason, line]) => `${line}:${reason}`),
      checkpoint: input.checkpoint,
    });
  }
  return replies;
}

/** Resumes at every checkpoint of a whole read; returns the whole read's events and skipped lines. */
async function assertResumesAnywhere(
  options: FrameWorkerOptions,
  path: string,
  chunk: number,
): Promise<{ events: number; rejects: string[] }> {
  const worker = new FrameWorker(options);
  workers.push(worker);
  const whole = await read(worker, path, chunk);
  const allFrames = Buffer.concat(whole.map((reply) => reply.frames));
  const allRejects = whole.flatMap((reply) => reply.rejects);
  assert.ok(whole.length > 5, 'several replies, so several checkpoints');
  let events = 0;
  for (const reply of whole) events += countFrames(reply.frames);
  for (let at = 0; at < whole.length; at++) {
    const checkpoint = whole[at]!.checkpoint!;
    const before = whole.slice(0, at + 1);
    const rest = await read(worker, path, chunk, checkpoint);
    assert.deepEqual(
      Buffer.concat([...before, ...rest].map((reply) => reply.frames)),
      allFrames,
      `resumed at ${JSON.stringify(checkpoint)}`,
    );
    // A line too long may be reported before its end (and so again after a resume).
    const rejects = new Set([...before, ...rest].flatMap((reply) => reply.rejects));
    assert.deepEqual([...rejects], [...new Set(allRejects)]);
  }
  return { events, rejects: allRejects };
}

/** Frames are `u32le length | u32le crc32c | payload`. */
function countFrames(frames: Buffer): number {
  let count = 0;
  for (let at = 0; at < frames.length; at += 8 + frames.readUInt32LE(at)) count += 1;
  return count;
}

test('NDJSON: resumed at any checkpoint, the frames and skipped lines are those of one read', async () => {
  const dir = makeDataDir('kw-frame-resume-');
  const path = join(dir, 'in.ndjson');
  const lines = Array.from({ length: 60 }, (_, i) =>
    i % 17 === 5 ? 'not json' : i % 23 === 7 ? `{"long":"${'x'.repeat(80)}"}` : `{"seq":${i}}`,
  );
  writeFileSync(path, lines.join('\n')); // the last line without a newline
  const whole = await assertResumesAnywhere({ maxLineBytes: 64, check: 'json' }, path, 13);
  assert.equal(whole.events, 53);
  assert.deepEqual(whole.rejects, [
    '6:invalid',
    '8:too_large',
    '23:invalid',
    '31:too_large',
    '40:invalid',
    '54:too_large',
    '57:invalid',
  ]);
});

test('ModSecurity: resumed at any checkpoint (never inside a record), the events are those of one read', async () => {
  const dir = makeDataDir('kw-frame-resume-modsec-');
  const storage = join(dir, 'storage');
  mkdirSync(join(storage, '20261123', '20261123-0439'), { recursive: true });
  const parts: string[] = [];
  for (let i = 0; i < 6; i++) {
    const id = `${i}`.padStart(8, 'a');
    const transaction = join(storage, '20261123', '20261123-0439', `20261123-043913-${id}`);
    writeFileSync(transaction, nativeRecord(id, false));
    parts.push(
      `{"transaction":{"unique_id":"j${i}","time_stamp":"Mon Nov 23 04:39:10 2026"}}\n`,
      nativeRecord(`${i}`.padStart(8, 'b'), i % 2 === 0),
      `127.0.0.1 - - [23/Nov/2026:04:39:13 +0000] "GET / HTTP/1.1" 200 0 "-" "-" ${id} "-" ` +
        `/var/log/${transaction.split('/').slice(-3).join('/')} 0 200.000000 md5:0\n`,
      i === 3 ? 'garbage line\n' : '',
    );
  }
  const path = join(dir, 'audit.log');
  writeFileSync(path, parts.join(''));
  const whole = await assertResumesAnywhere(
    { maxLineBytes: 4096, check: 'json', from: 'modsecurity', storageDir: storage },
    path,
    97,
  );
  assert.equal(whole.events, 18, 'six JSON, six Native and six indexed records');
  assert.deepEqual(whole.rejects, ['49:garbage']);
});
