import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Lifecycle } from './lifecycle.ts';
import { createLogger } from './telemetry/index.ts';

const logger = createLogger({ level: 'silent' });

test('shutdown runs phases in order, once, past failing and stuck steps', async () => {
  const lifecycle = new Lifecycle(logger, { stepTimeoutMs: 50 });
  const seen: string[] = [];
  lifecycle.onShutdown('close', 'store', () => {
    seen.push('close');
  });
  lifecycle.onShutdown('flush', 'stuck sink', () => new Promise<void>(() => {}));
  lifecycle.onShutdown('accept', 'listener', async () => {
    seen.push('accept');
  });
  lifecycle.onShutdown('drain', 'broken buffer', () => {
    seen.push('drain');
    throw new Error('boom');
  });
  assert.equal(lifecycle.isShuttingDown, false);
  const first = lifecycle.shutdown('test');
  assert.equal(lifecycle.shutdown('again'), first);
  assert.equal(lifecycle.isShuttingDown, true);
  await first;
  assert.deepEqual(seen, ['accept', 'drain', 'close']);
});
