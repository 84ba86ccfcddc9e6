import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AuthThrottle } from './auth-throttle.ts';

test('auth throttle: delays grow per address, are capped, forgiven, and memory is bounded', () => {
  let now = 0;
  const throttle = new AuthThrottle({ maxDelayMs: 1000, maxAddresses: 3, now: () => now });
  assert.deepEqual(
    [1, 2, 3, 4, 5, 6, 7].map(() => throttle.fail('a')),
    [0, 50, 100, 200, 400, 800, 1000],
  );
  assert.equal(throttle.fail('b'), 0);
  throttle.succeed('a');
  assert.equal(throttle.fail('a'), 0);
  now += 11 * 60_000;
  assert.equal(throttle.fail('b'), 0, 'forgiven after ten quiet minutes');
  for (const address of ['c', 'd', 'e', 'f']) throttle.fail(address);
  assert.equal(throttle.size, 3);
});
