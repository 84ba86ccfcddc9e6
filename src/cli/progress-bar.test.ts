import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ShipProgress } from '../pipeline/ship-once.ts';
import { formatBytes, formatProgress } from './progress-bar.ts';

function progress(totalBytes: number | undefined, pending: number): ShipProgress {
  return {
    eventsRead: 10_000,
    bytesRead: 5 * 1024 * 1024,
    totalBytes,
    eventsRejected: 0,
    startedAt: 0,
    pending: () => pending,
  };
}

test('a file run shows a bar, acknowledged events, bytes, rate and ETA', () => {
  const line = formatProgress(progress(10 * 1024 * 1024, 2_000), 2_000, 120);
  assert.match(line, /^\[#+\.+\] {2}50% /);
  assert.match(line, /8,000\/10,000 events acked/);
  assert.match(line, /5\.0 MiB/);
  assert.match(line, /4,000 ev\/s/);
  assert.match(line, /ETA 2s/);
  assert.ok(line.length < 120);
});

test('standard input (size unknown) shows no bar and no ETA', () => {
  const line = formatProgress(progress(undefined, 0), 1_000, 100);
  assert.doesNotMatch(line, /\[|ETA/);
  assert.match(line, /10,000\/10,000 events acked/);
  assert.equal(formatBytes(512), '512 B');
  assert.equal(formatBytes(3 * 1024 ** 3), '3.00 GiB');
});
