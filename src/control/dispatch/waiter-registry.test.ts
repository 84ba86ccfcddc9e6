import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createRegistry } from '../../telemetry/index.ts';
import { tokenEndKey } from '../command.ts';
import { ControlMetrics } from '../control-metrics.ts';
import { InProcessNotifier } from '../notifier.ts';
import { type Waiter, WaiterRegistry } from './waiter-registry.ts';

class RecordingWaiter implements Waiter {
  readonly kind = 'poll' as const;
  readonly isGone = false;
  readonly key: string;
  closedAs: string | undefined;
  constructor(key: string) {
    this.key = key;
  }
  wake(): void {}
  close(reason: string): void {
    this.closedAs = reason;
  }
}

test('a token end closes that agent’s waits only, and a wait authenticated before it but registered after', () => {
  const notifier = new InProcessNotifier();
  const registry = new WaiterRegistry(
    notifier,
    new ControlMetrics(createRegistry(), async () => new Map()),
  );
  const open = new RecordingWaiter('agent:a');
  const other = new RecordingWaiter('agent:b');
  registry.add(open);
  registry.add(other);
  const markBefore = registry.tokenEndMark();

  notifier.publish([tokenEndKey('revoked', 'a')]);
  assert.equal(open.closedAs, 'revoked');
  assert.equal(other.closedAs, undefined);
  assert.equal(registry.hasWaiter('agent:a'), false);

  const late = new RecordingWaiter('agent:a');
  registry.add(late);
  registry.endIfEndedSince(late, markBefore);
  assert.equal(late.closedAs, 'revoked', 'authenticated before the revoke: ended');
  assert.equal(registry.hasWaiter('agent:a'), false);

  const after = new RecordingWaiter('agent:a');
  registry.add(after);
  registry.endIfEndedSince(after, registry.tokenEndMark());
  assert.equal(after.closedAs, undefined, 'authenticated after it: left alone');

  const lateOther = new RecordingWaiter('agent:b');
  registry.add(lateOther);
  registry.endIfEndedSince(lateOther, markBefore);
  assert.equal(lateOther.closedAs, undefined, 'another agent: left alone');

  notifier.publish([tokenEndKey('rotated', 'b')]);
  assert.equal(other.closedAs, 'rotated');
  assert.equal(lateOther.closedAs, 'rotated');
});

test('revalidate ends the waits whose token was replaced or revoked, and leaves valid ones', async () => {
  const registry = new WaiterRegistry(
    new InProcessNotifier(),
    new ControlMetrics(createRegistry(), async () => new Map()),
  );
  const owners = new Map([
    ['hash-valid', { revokedAt: null }],
    ['hash-revoked', { revokedAt: '2026-12-01T00:00:00.000Z' }],
  ]);
  const waiters = ['valid', 'revoked', 'rotated'].map((name) => {
    const waiter = new RecordingWaiter(`agent:${name}`);
    registry.add(waiter);
    registry.noteToken(waiter, `hash-${name}`);
    return waiter;
  });
  assert.equal(await registry.revalidate(async (hash) => owners.get(hash)), 2);
  assert.deepEqual(
    waiters.map((w) => w.closedAs),
    [undefined, 'revoked', 'rotated'],
  );
  assert.equal(registry.hasWaiter('agent:valid'), true);
  assert.equal(await registry.revalidate(async (hash) => owners.get(hash)), 0, 'each ended once');
});
