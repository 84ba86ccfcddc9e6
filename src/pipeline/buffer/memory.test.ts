import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ShipAppendTooLargeError, ShipBufferFullError } from '../errors.ts';
import { MemoryBuffer } from './memory.ts';

const limits = { maxEvents: 2, maxBytes: 1024, lingerMs: 0 };
const records = (...texts: string[]) => texts.map((text) => Buffer.from(text));

test('hands out batches in order, counts pending until acknowledged out of order', async () => {
  const buffer = new MemoryBuffer({ maxEvents: 10 });
  await buffer.append(records('a', 'bb', 'ccc'));
  const signal = new AbortController().signal;
  const first = await buffer.read(limits, signal);
  const second = await buffer.read(limits, signal);
  assert.deepEqual(first.records.map(String), ['a', 'bb']);
  assert.deepEqual(second.records.map(String), ['ccc']);
  assert.equal(buffer.pendingEvents, 3);
  await buffer.ack(second);
  assert.equal(buffer.pendingEvents, 2);
  assert.equal(buffer.pendingBytes, 3);
  await buffer.ack(first);
  await buffer.ack(first);
  assert.equal(buffer.pendingEvents, 0);
});

test('a read waits for an append, lingers for more, and aborts with the reason', async () => {
  const buffer = new MemoryBuffer({ maxEvents: 10 });
  const reading = buffer.read(
    { maxEvents: 3, maxBytes: 1024, lingerMs: 5_000 },
    AbortSignal.timeout(10_000),
  );
  await buffer.append(records('a'));
  await buffer.append(records('b', 'c'));
  assert.deepEqual((await reading).records.map(String), ['a', 'b', 'c']);
  const controller = new AbortController();
  const waiting = buffer.read(limits, controller.signal);
  controller.abort(new Error('stop'));
  await assert.rejects(waiting, /stop/);
});

test('the byte limit splits batches; a single larger record comes alone', async () => {
  const buffer = new MemoryBuffer({ maxEvents: 10 });
  await buffer.append(records('x'.repeat(10), 'y'.repeat(10), 'z'.repeat(30)));
  const signal = new AbortController().signal;
  const small = { maxEvents: 10, maxBytes: 25, lingerMs: 0 };
  assert.equal((await buffer.read(small, signal)).records.length, 2);
  assert.equal((await buffer.read(small, signal)).bytes, 30);
});

test('when full: block waits for room (an ack admits it), refuses after retryAfterMs and at close', async () => {
  const waiting = new MemoryBuffer({ maxEvents: 2, retryAfterMs: 60_000 });
  await waiting.append(records('a', 'b'));
  const order: string[] = [];
  const blocked = waiting.append(records('c')).then(() => order.push('c appended'));
  assert.equal(waiting.waitingAppends, 1);
  const batch = await waiting.read(limits, AbortSignal.timeout(10_000));
  order.push('read');
  await waiting.ack(batch);
  await blocked;
  assert.deepEqual(order, ['read', 'c appended']);
  assert.equal(waiting.waitingAppends, 0);
  assert.deepEqual((await waiting.read(limits, AbortSignal.timeout(10_000))).records.map(String), [
    'c',
  ]);
  // First come first served: a small append queues behind a waiting one even when it would fit.
  const fcfs = new MemoryBuffer({ maxEvents: 3, retryAfterMs: 60_000 });
  await fcfs.append(records('a', 'b'));
  const big = fcfs.append(records('x', 'y'));
  const small = fcfs.append(records('z'));
  assert.equal(fcfs.waitingAppends, 2);
  await fcfs.ack(await fcfs.read(limits, AbortSignal.timeout(10_000)));
  await Promise.all([big, small]);
  const rest = await fcfs.read({ ...limits, maxEvents: 10 }, AbortSignal.timeout(10_000));
  assert.deepEqual(rest.records.map(String), ['x', 'y', 'z']);
  await fcfs.close();

  const blocking = new MemoryBuffer({ maxEvents: 2, retryAfterMs: 50 });
  await blocking.append(records('a', 'b'));
  await assert.rejects(blocking.append(records('c')), (error: unknown) => {
    assert.ok(error instanceof ShipBufferFullError);
    assert.equal(error.code, 'SHIP_BUFFER_FULL');
    assert.equal(error.retryAfterMs, 50);
    return true;
  });
  const atClose = new MemoryBuffer({ maxEvents: 1, retryAfterMs: 60_000 });
  await atClose.append(records('a'));
  const refused = assert.rejects(atClose.append(records('b')), /closed/);
  await atClose.close();
  await refused;
});

test('when full: drops are counted', async () => {
  const drops: string[] = [];
  const oldest = new MemoryBuffer({
    maxEvents: 2,
    whenFull: 'dropOldest',
    onDrop: (count, reason) => drops.push(`${count} ${reason}`),
  });
  await oldest.append(records('a', 'b'));
  await oldest.append(records('c'));
  const signal = new AbortController().signal;
  assert.deepEqual((await oldest.read(limits, signal)).records.map(String), ['b', 'c']);
  const newest = new MemoryBuffer({
    maxEvents: 2,
    whenFull: 'dropNewest',
    onDrop: (count, reason) => drops.push(`${count} ${reason}`),
  });
  await newest.append(records('a', 'b', 'c'));
  assert.deepEqual((await newest.read(limits, signal)).records.map(String), ['a', 'b']);
  assert.deepEqual(drops, ['1 buffer_full_oldest', '1 buffer_full_newest']);
});

test('readers woken together: the ones left without records wait again, none gets an empty batch', async () => {
  const buffer = new MemoryBuffer({ maxEvents: 10 });
  const signal = AbortSignal.timeout(10_000);
  const first = buffer.read(limits, signal);
  const second = buffer.read(limits, signal);
  await buffer.append(records('a'));
  const settled: string[][] = [];
  for (const reading of [first, second]) {
    void reading.then((batch) => settled.push(batch.records.map(String)));
  }
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.deepEqual(settled, [['a']]);
  await buffer.append(records('b'));
  await Promise.all([first, second]);
  assert.deepEqual(settled, [['a'], ['b']]);
});

test('an append of more events than the buffer can ever hold is refused as too large, not full', async () => {
  const buffer = new MemoryBuffer({ maxEvents: 2 });
  await assert.rejects(buffer.append(records('a', 'b', 'c')), (error: unknown) => {
    assert.ok(error instanceof ShipAppendTooLargeError);
    assert.equal(error.status, 413);
    assert.match(error.message, /split the request.*maxEvents/);
    return true;
  });
});
