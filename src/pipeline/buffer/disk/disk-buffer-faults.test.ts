/**
 * Durability errors through the filesystem seam: a failed background
 * fdatasync is reported and refuses appends (it used to be ignored), a
 * failed write is never acknowledged, a short write is completed, and
 * `whenFull: block` waits for room instead of refusing at once.
 */
import assert from 'node:assert/strict';
import { EventEmitter, once } from 'node:events';
import { test } from 'node:test';
import { diskBufferOptions, texts } from '../../../../test/support/disk-buffer-options.ts';
import { type Fault, FaultyFilesystem } from '../../../../test/support/faulty-filesystem.ts';
import { ShipBufferFullError, ShipBufferWriteError } from '../../errors.ts';
import { DiskBuffer } from './disk-buffer.ts';

const never = new AbortController().signal;
const all = { maxEvents: 1000, maxBytes: 1 << 20, lingerMs: 0 };
const options = diskBufferOptions;

/** Faults (or none) taken from a list, one per matching operation; none once it is empty. */
function scripted(script: [string, Fault | undefined][]) {
  return new FaultyFilesystem((operation) => {
    if (script[0]?.[0] !== operation) return undefined;
    return script.shift()![1];
  });
}

test('a failed background fdatasync is reported and refuses appends until a write succeeds again', async () => {
  const events = new EventEmitter();
  let failing = true;
  const filesystem = new FaultyFilesystem((operation) =>
    operation === 'datasync' && failing ? 'EIO' : undefined,
  );
  const buffer = await DiskBuffer.open(
    options({
      fsync: 20,
      retryAfterMs: 200,
      filesystem,
      onWriteError: (error) => events.emit('error-reported', error),
      onWriteRecovered: () => events.emit('recovered'),
    }),
  );
  await buffer.append(texts(3, 'acked'));
  const [reported] = await once(events, 'error-reported');
  assert.equal((reported as NodeJS.ErrnoException).code, 'EIO');
  await assert.rejects(buffer.append(texts(1, 'refused')), (error: unknown) => {
    assert.ok(error instanceof ShipBufferWriteError);
    assert.equal(error.code, 'SHIP_BUFFER_WRITE_FAILED');
    assert.equal(error.status, 503);
    assert.ok(error.retryAfterMs > 0 && error.retryAfterMs <= 200);
    assert.match(error.message, /cannot write \(EIO/);
    return true;
  });
  failing = false;
  const recovered = once(events, 'recovered');
  for (;;) {
    // Refused until retryAfterMs has passed; then the write goes to a fresh segment.
    const outcome = await buffer.append(texts(1, 'later')).then(
      () => 'ok',
      (error: unknown) => (error instanceof ShipBufferWriteError ? 'refused' : error),
    );
    if (outcome === 'ok') break;
    assert.equal(outcome, 'refused');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  await recovered;
  const records = (await buffer.read(all, never)).records.map(String);
  assert.deepEqual(records, ['acked0', 'acked1', 'acked2', 'later0']);
  await buffer.close();
});

test('a failed write or fdatasync is never acknowledged, and leaves nothing behind', async () => {
  const opts = options({
    retryAfterMs: 1,
    filesystem: scripted([
      ['write', 'short'],
      ['write', undefined],
      ['datasync', undefined],
      ['write', 'ENOSPC'],
      ['write', undefined],
      ['datasync', 'EIO'],
    ]),
  });
  const buffer = await DiskBuffer.open(opts);
  await buffer.append(texts(2, 'short')); // completed across two writes
  await assert.rejects(buffer.append(texts(2, 'nospace')), ShipBufferWriteError);
  await new Promise((resolve) => setTimeout(resolve, 5));
  await assert.rejects(buffer.append(texts(2, 'nosync')), ShipBufferWriteError);
  await new Promise((resolve) => setTimeout(resolve, 5));
  await buffer.append(texts(2, 'fine'));
  await buffer.close();
  let damaged = 0;
  const again = await DiskBuffer.open({ ...opts, onDamage: () => damaged++ });
  assert.equal(damaged, 0, 'the partial and unsynced writes were cut off');
  const records = (await again.read(all, never)).records.map(String);
  assert.deepEqual(records, ['short0', 'short1', 'fine0', 'fine1']);
  await again.close();
});

test('whenFull block waits for room: an ack admits the waiting append', async () => {
  const buffer = await DiskBuffer.open(options({ maxSizeBytes: 100, retryAfterMs: 60_000 }));
  await buffer.append([Buffer.alloc(60, 97)]);
  let isDone = false;
  const waiting = buffer.append([Buffer.alloc(60, 98)]).then(() => {
    isDone = true;
  });
  const batch = await buffer.read(all, never);
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(isDone, false, 'still waiting while the first event is unacknowledged');
  await buffer.ack(batch);
  await waiting;
  assert.equal(String((await buffer.read(all, never)).records[0]), 'b'.repeat(60));
  await buffer.close();
});

test('whenFull block refuses after retryAfterMs without room, and at close', async () => {
  const buffer = await DiskBuffer.open(options({ maxSizeBytes: 100, retryAfterMs: 30 }));
  await buffer.append([Buffer.alloc(60, 97)]);
  await assert.rejects(buffer.append([Buffer.alloc(60, 98)]), ShipBufferFullError);
  const atClose = assert.rejects(buffer.append([Buffer.alloc(60, 99)]), /closed/);
  await buffer.close();
  await atClose;
});
