import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UuidV7Generator } from './uuid-v7.ts';

test('uuid v7: version, variant, time prefix and order within one millisecond', () => {
  const generator = new UuidV7Generator(() => 0x0190_1234_5678);
  const ids = Array.from({ length: 5000 }, () => generator.next());
  for (const id of ids)
    assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.ok(ids[0]!.startsWith('01901234-5678-7'));
  assert.deepEqual([...ids].sort(), ids);
  assert.equal(new Set(ids).size, ids.length);
});
