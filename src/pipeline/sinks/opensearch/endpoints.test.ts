/**
 * Several endpoints against `_bulk` test nodes sharing one store: failover
 * within a send, endpoints set aside and probed back, a node that hangs, a
 * node unreachable at start, every node down.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BulkNode, startBulkCluster } from '../../../../test/support/bulk/index.ts';
import { SinkEndpointsDownError } from '../../errors.ts';
import { openSearchService, until } from './opensearch-test-harness.ts';

const signal = new AbortController().signal;
const health = { failuresToSetAside: 2, initialProbeBackoffMs: 100, maxProbeBackoffMs: 400 };
let next = 0;
const batch = (count = 5) =>
  Array.from({ length: count }, () => Buffer.from(JSON.stringify({ event: { id: `e${next++}` } })));

test('a node that dies: requests fail over at once, it is set aside, probed, and taken back', async () => {
  const { cluster, nodes, urls, close } = await startBulkCluster({ nodes: 2 });
  const { service, logs, metric } = openSearchService({ endpoints: urls, health });
  const [first, second] = service.endpoints;
  try {
    await until(
      () => service.endpoints.every((endpoint) => endpoint.info !== undefined),
      'identification',
    );
    await nodes[0]!.stop();
    for (let send = 0; send < 6; send += 1) {
      const result = await service.send(batch(), signal);
      assert.deepEqual(result.retry, [], 'every send went through on the live node');
    }
    assert.equal(cluster.documentCount, 30);
    assert.equal(first!.health.isHealthy, false);
    assert.equal(
      await metric('keepwire_opensearch_endpoint_healthy', `endpoint="${first!.label}"`),
      0,
    );
    assert.equal(
      await metric('keepwire_opensearch_endpoint_healthy', `endpoint="${second!.label}"`),
      1,
    );
    assert.equal(
      await metric(
        'keepwire_opensearch_bulk_requests_total',
        `endpoint="${first!.label}"`,
        'status="error"',
      ),
      2,
      'tried until set aside, then left alone',
    );
    assert.ok(
      logs.some(
        (line) => line.msg.startsWith('endpoint set aside') && line.endpoint === first!.label,
      ),
    );
    await nodes[0]!.start();
    await until(() => first!.health.isHealthy, 'the probe to bring the node back');
    const before = nodes[0]!.requests.length;
    for (let send = 0; send < 4; send += 1) await service.send(batch(), signal);
    assert.ok(nodes[0]!.requests.length > before, 'the node takes requests again');
    assert.equal(
      await metric('keepwire_opensearch_endpoint_healthy', `endpoint="${first!.label}"`),
      1,
    );
  } finally {
    await service.close();
    await close();
  }
});

test('every node down: the send fails at once with the time to the next probe', async () => {
  const { nodes, urls, close } = await startBulkCluster({ nodes: 2 });
  const { service } = openSearchService({
    endpoints: urls,
    health: { ...health, initialProbeBackoffMs: 60_000 },
  });
  try {
    await until(
      () => service.endpoints.every((endpoint) => endpoint.info !== undefined),
      'identification',
    );
    for (const node of nodes) await node.stop();
    await assert.rejects(service.send(batch(), signal), /ECONNREFUSED/);
    await assert.rejects(service.send(batch(), signal), /ECONNREFUSED/);
    await assert.rejects(service.send(batch(), signal), (error: unknown) => {
      assert.ok(error instanceof SinkEndpointsDownError);
      assert.equal(error.code, 'SHIP_SINK_ENDPOINTS_DOWN');
      assert.ok(
        error.retryAfterMs > 50_000 && error.retryAfterMs <= 60_000,
        String(error.retryAfterMs),
      );
      return true;
    });
  } finally {
    await service.close();
    await close();
  }
});

test('a node that hangs: the request times out and goes to the other node', async () => {
  const { cluster, nodes, urls, close } = await startBulkCluster({ nodes: 2 });
  const { service } = openSearchService({
    endpoints: urls,
    health,
    timeouts: { headersTimeoutMs: 300 },
  });
  try {
    await until(
      () => service.endpoints.every((endpoint) => endpoint.info !== undefined),
      'identification',
    );
    nodes[0]!.isHanging = true;
    for (let send = 0; send < 4; send += 1)
      assert.deepEqual((await service.send(batch(), signal)).retry, []);
    assert.equal(cluster.documentCount, 20);
    assert.equal(service.endpoints[0]!.health.isHealthy, false);
    assert.ok(nodes[0]!.requests.length >= 1, 'the hanging node got a request');
  } finally {
    await service.close();
    await close();
  }
});

test('an endpoint unreachable at start is not fatal: set aside, then taken when it comes up', async () => {
  const { cluster, urls, close } = await startBulkCluster();
  const late = new BulkNode(cluster, { name: 'late' });
  await late.start();
  const port = late.port;
  await late.stop();
  const lateUrl = `http://127.0.0.1:${port}`;
  const { service, logs } = openSearchService({ endpoints: [lateUrl, ...urls], health });
  try {
    await until(
      () => logs.some((line) => line.msg.startsWith('endpoint unreachable at start')),
      'the start-up check',
    );
    assert.equal(service.endpoints[0]!.health.isHealthy, false);
    await service.send(batch(), signal);
    await late.start();
    await until(
      () => service.endpoints[0]!.info !== undefined,
      'the probe identifying the late node',
      15_000,
    );
    assert.ok(logs.some((line) => line.msg === 'endpoint identified' && line.endpoint === lateUrl));
  } finally {
    await service.close();
    await late.stop();
    await close();
  }
});
