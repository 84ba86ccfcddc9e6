import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EndpointHealth } from './endpoint-health.ts';

const policy = { failuresToSetAside: 3, initialProbeBackoffMs: 1_000, maxProbeBackoffMs: 5_000 };

test('set aside after N failures in a row; a success in between starts the count again', () => {
  const health = new EndpointHealth(policy);
  assert.equal(health.failed(0), false);
  assert.equal(health.failed(0), false);
  health.succeeded();
  assert.equal(health.failed(0), false);
  assert.equal(health.failed(0), false);
  assert.equal(health.isHealthy, true);
  assert.equal(health.failed(100), true);
  assert.equal(health.isHealthy, false);
  assert.equal(health.probeAt, 1_100);
  assert.equal(health.failed(200), false, 'already set aside');
});

test('failed probes double the backoff up to the maximum; probation ends with a success', () => {
  const health = new EndpointHealth(policy);
  health.unreachable(0);
  assert.equal(health.probeAt, 1_000);
  health.probeFailed(1_000);
  assert.equal(health.probeAt, 3_000);
  health.probeFailed(3_000);
  health.probeFailed(7_000);
  assert.equal(health.probeAt, 12_000, 'capped at 5 s');
  health.probeSucceeded();
  assert.equal(health.isHealthy, true);
  assert.equal(health.failed(20_000), true, 'one failure on probation sets it aside again');
  assert.equal(health.probeAt, 25_000);
  health.probeSucceeded();
  assert.equal(health.succeeded(), true, 'the success that ends the probation');
  assert.equal(health.succeeded(), false);
  health.failed(30_000);
  health.failed(30_000);
  health.failed(30_000);
  assert.equal(health.probeAt, 31_000, 'the backoff was reset');
});
