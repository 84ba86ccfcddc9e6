import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Coalescer } from './coalescer.ts';

test('coalescer: a lone call goes alone; calls during a batch go together, answered in order', async () => {
  const batches: number[][] = [];
  let release!: () => void;
  let gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  const doubles = new Coalescer<number, number>(async (items) => {
    batches.push(items);
    await gate;
    return items.map((n) => n * 2);
  });
  const first = doubles.call(1);
  const rest = [2, 3, 4].map((n) => doubles.call(n));
  assert.deepEqual(batches, [[1]], 'the first call did not wait for company');
  gate = Promise.resolve();
  release();
  assert.deepEqual(await Promise.all([first, ...rest]), [2, 4, 6, 8]);
  assert.deepEqual(batches, [[1], [2, 3, 4]]);
});

test('coalescer: a failed batch rejects each of its calls, and the next batch still runs', async () => {
  let calls = 0;
  const flaky = new Coalescer<string, string>(async (items) => {
    calls += 1;
    if (calls === 1) throw new Error('connection lost');
    return items.map((s) => s.toUpperCase());
  });
  const [a, b] = [flaky.call('a'), flaky.call('b')];
  await assert.rejects(a, /connection lost/);
  assert.equal(await b, 'B');
  assert.equal(await flaky.call('c'), 'C');
});
