import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BodyPool } from '../body-pool.ts';
import { encodeBatch, encodedBytes } from './encoder.ts';

const RECORDS = [Buffer.from('{"a":1}'), Buffer.from('{"b":"x"}'), Buffer.from('{}')];

for (const count of [0, 1, 3]) {
  const records = RECORDS.slice(0, count);
  test(`encodes ${count} record(s) as NDJSON and as a JSON array`, () => {
    const ndjson = encodeBatch(records, 'ndjson');
    assert.equal(ndjson.toString(), records.map((record) => `${record}\n`).join(''));
    assert.equal(ndjson.length, encodedBytes(records, 'ndjson'));
    const array = encodeBatch(records, 'json');
    assert.deepEqual(
      JSON.parse(array.toString()),
      records.map((record) => JSON.parse(record.toString())),
    );
    assert.equal(array.length, encodedBytes(records, 'json'));
  });
}

test('a reused body holds only the new batch, whatever the memory held before', () => {
  const pool = new BodyPool(2);
  const big = Array.from({ length: 100 }, (_, i) =>
    Buffer.from(JSON.stringify({ i, pad: 'x'.repeat(1000) })),
  );
  const first = encodeBatch(big, 'ndjson', (bytes) => pool.acquire(bytes));
  assert.ok(first.length >= 64 * 1024, 'large enough to be pooled');
  const firstMemory = first.buffer;
  pool.release(first);
  const small = big.slice(0, 70);
  const second = encodeBatch(small, 'ndjson', (bytes) => pool.acquire(bytes));
  assert.equal(second.buffer, firstMemory, 'the released memory is used again');
  assert.equal(second.length, encodedBytes(small, 'ndjson'));
  assert.deepEqual(
    second
      .toString()
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line).i),
    small.map((_, i) => i),
  );
});

test('the pool keeps at most maxFree bodies and never pools small ones', () => {
  const pool = new BodyPool(1);
  const a = pool.acquire(100_000);
  const b = pool.acquire(100_000);
  assert.notEqual(a.buffer, b.buffer);
  pool.release(a);
  pool.release(b); // beyond maxFree: dropped
  assert.equal(pool.acquire(100_000).buffer, a.buffer);
  assert.notEqual(pool.acquire(100_000).buffer, b.buffer);
});

test('small bodies are not pooled', () => {
  const pool = new BodyPool(4);
  pool.release(pool.acquire(10));
  pool.release(pool.acquire(20_000));
  const large = pool.acquire(100_000);
  assert.ok(large.buffer.byteLength >= 100_000, 'a small body was handed out for a large one');
});
