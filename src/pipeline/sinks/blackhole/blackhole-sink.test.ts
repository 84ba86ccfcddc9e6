import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createLogger, createRegistry } from '../../../telemetry/index.ts';
import { blackholeSinkSchema } from './config.ts';
import { createBlackholeSinkService } from './index.ts';

test('the blackhole sink counts events and bytes and discards them', async () => {
  const registry = createRegistry({ processMetrics: false });
  const service = createBlackholeSinkService(blackholeSinkSchema.parse({ type: 'blackhole' }), {
    name: 'null',
    registry,
    logger: createLogger({ level: 'silent' }),
  });
  const result = await service.send(
    [Buffer.from('{"a":1}'), Buffer.from('{"b":22}')],
    new AbortController().signal,
  );
  assert.deepEqual(result.rejected, []);
  const text = await registry.metrics();
  assert.match(text, /keepwire_blackhole_events_total\{sink="null"\} 2/);
  assert.match(text, /keepwire_blackhole_bytes_total\{sink="null"\} 15/);
  assert.throws(() => blackholeSinkSchema.parse({ type: 'blackhole', extra: 1 }));
  await service.close();
});
