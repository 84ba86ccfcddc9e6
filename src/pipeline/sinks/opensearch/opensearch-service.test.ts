/**
 * The opensearch sink's service against the `_bulk` test server (real HTTP
 * on port 0): documents, ids and indexes; item-by-item answers; 413 splits;
 * whole-request 429/503 with Retry-After (capped); refusals; auth from
 * files, gzip, TLS with a private CA and a client certificate.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { startBulkCluster } from '../../../../test/support/bulk/index.ts';
import { makeTestCertificates } from '../../../../test/support/test-certificates.ts';
import { SinkRejectedError, SinkUnavailableError } from '../../errors.ts';
import { openSearchService, until } from './opensearch-test-harness.ts';

const dir = mkdtempSync(join(tmpdir(), 'keepwire-opensearch-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const signal = new AbortController().signal;

function event(id: string, extra: Record<string, unknown> = {}): Buffer {
  return Buffer.from(
    JSON.stringify({ '@timestamp': '2024-05-06T12:00:00Z', event: { id }, ...extra }),
  );
}

test('documents are created in the index of their date, with their event.id as _id', async () => {
  const { cluster, urls, close } = await startBulkCluster();
  const { service, logs, metric } = openSearchService({
    endpoints: urls,
    index: 'wazuh-alerts-4.x-%Y.%m.%d',
  });
  try {
    const records = [
      event('a'),
      event('b', { '@timestamp': '2024-05-07T00:00:01Z' }),
      Buffer.from('{"no":"id"}'),
    ];
    const result = await service.send(records, signal);
    assert.deepEqual([result.rejected, result.retry, result.alreadyPresent], [[], [], 0]);
    assert.deepEqual(
      [...cluster.indices.keys()].sort(),
      [
        'wazuh-alerts-4.x-2024.05.06',
        'wazuh-alerts-4.x-2024.05.07',
        `wazuh-alerts-4.x-${new Date().toISOString().slice(0, 10).replaceAll('-', '.')}`,
      ].sort(),
    );
    assert.equal(
      cluster.indices.get('wazuh-alerts-4.x-2024.05.06')!.get('a')!.source,
      records[0]!.toString(),
    );
    await until(
      async () =>
        (await metric(
          'keepwire_opensearch_endpoint_info',
          'distribution="opensearch"',
          'version="2.19.1"',
        )) === 1,
      'the start-up GET /',
    );
    assert.ok(
      logs.some((line) => line.msg === 'endpoint identified' && line.distribution === 'opensearch'),
    );
    assert.equal(await metric('keepwire_opensearch_documents_total', 'result="indexed"'), 3);
    // The same records again: every one already present, none stored twice.
    const again = await service.send(records, signal);
    assert.deepEqual([again.rejected, again.retry, again.alreadyPresent], [[], [], 3]);
    assert.equal(cluster.documentCount, 3);
    assert.equal(
      await metric('keepwire_opensearch_documents_total', 'result="already_present"'),
      3,
    );
  } finally {
    await service.close();
    await close();
  }
});

test('mixed item answers: 429 and 500 to retry, mapping errors refused with the reason, 409 present', async () => {
  const { cluster, urls, close } = await startBulkCluster();
  cluster.mappings = { 'http.response.status_code': 'long' };
  cluster.put('keepwire-2024.05.06', 'old', '{}');
  const seed = 7;
  cluster.setFaults({ seed, rate429: 0.2, rate500: 0.2 });
  const { service, metric } = openSearchService({ endpoints: urls });
  try {
    const records = Array.from({ length: 40 }, (_, i) =>
      event(i === 0 ? 'old' : `e${i}`, {
        http: { response: { status_code: i % 10 === 5 ? 'abc' : 200 } },
      }),
    );
    const result = await service.send(records, signal);
    const statuses = cluster.itemStatuses;
    assert.equal(result.retry!.length, (statuses.get(429) ?? 0) + (statuses.get(500) ?? 0));
    assert.ok(result.retry!.length > 0, `seed ${seed} draws some 429 and 500`);
    for (const item of result.rejected) {
      assert.equal(item.status, 400);
      assert.match(
        item.reason,
        /mapper_parsing_exception: failed to parse field \[http\.response\.status_code\] of type \[long\]/,
      );
      assert.equal(JSON.parse(item.response!).caused_by.type, 'illegal_argument_exception');
      assert.ok(item.index % 10 === 5);
    }
    const stored = cluster.documentCount;
    assert.equal(
      stored - 1 + result.rejected.length + result.retry!.length + (result.alreadyPresent ?? 0),
      40,
    );
    // Retried alone, the items go through (the faults are per attempt).
    cluster.setFaults(undefined);
    const retried = await service.send(
      result.retry!.map((index) => records[index]!),
      signal,
    );
    assert.equal(retried.retry!.length, 0);
    assert.equal(
      await metric('keepwire_opensearch_documents_total', 'result="retried"'),
      result.retry!.length,
    );
    assert.equal(
      await metric('keepwire_opensearch_documents_total', 'result="dead_lettered"'),
      result.rejected.length + retried.rejected.length,
    );
  } finally {
    await service.close();
    await close();
  }
});

test('413 splits the batch down to single documents; a single one too large is refused', async () => {
  const { nodes, cluster, urls, close } = await startBulkCluster({
    node: { maxContentLengthBytes: 1_000 },
  });
  const { service, metric } = openSearchService({ endpoints: urls });
  try {
    const records = [
      ...Array.from({ length: 9 }, (_, i) => event(`small-${i}`, { pad: 'p'.repeat(100) })),
      event('huge', { pad: 'h'.repeat(2_000) }),
      event('after', { pad: 'p'.repeat(100) }),
    ];
    const result = await service.send(records, signal);
    assert.deepEqual(result.retry, []);
    assert.deepEqual(
      result.rejected.map((item) => [item.index, item.status]),
      [[9, 413]],
    );
    assert.match(result.rejected[0]!.reason, /http\.max_content_length/);
    assert.equal(await metric('keepwire_opensearch_documents_total', 'result="dead_lettered"'), 1);
    assert.equal(cluster.documentCount, 10);
    assert.ok(
      nodes[0]!.requests.filter((request) => request.bytes > 1_000).length >= 3,
      'split by halves',
    );
  } finally {
    await service.close();
    await close();
  }
});

test('429 and 503 on the whole request honour Retry-After, capped by maxRetryAfterMs', async () => {
  const { nodes, urls, close } = await startBulkCluster();
  const { service } = openSearchService({ endpoints: urls, maxRetryAfterMs: 5_000 });
  try {
    nodes[0]!.answerNext.push({ status: 429, headers: { 'retry-after': '2' } });
    await assert.rejects(
      service.send([event('a')], signal),
      (error: SinkUnavailableError) => error.retryAfterMs === 2_000,
    );
    nodes[0]!.answerNext.push({ status: 429, headers: { 'retry-after': '86400' } });
    await assert.rejects(
      service.send([event('a')], signal),
      (error: SinkUnavailableError) => error.retryAfterMs === 5_000,
    );
    nodes[0]!.answerNext.push({ status: 503, headers: { 'retry-after': '1' } });
    await assert.rejects(
      service.send([event('a')], signal),
      (error: SinkUnavailableError) => error.retryAfterMs === 1_000,
    );
    nodes[0]!.answerNext.push({ status: 500, body: '{"error":"boom"}' });
    await assert.rejects(
      service.send([event('a')], signal),
      (error: SinkUnavailableError) =>
        error instanceof SinkUnavailableError && /boom/.test(error.message),
    );
  } finally {
    await service.close();
    await close();
  }
});

test('other 4xx refuse the whole batch with the answer', async () => {
  const { urls, close } = await startBulkCluster({ node: { auth: 'Basic c29tZW9uZTplbHNl' } });
  const { service } = openSearchService({ endpoints: urls });
  try {
    await assert.rejects(service.send([event('a')], signal), (error: unknown) => {
      assert.ok(error instanceof SinkRejectedError);
      assert.equal(error.status, 401);
      assert.equal(error.response, 'Unauthorized');
      return true;
    });
  } finally {
    await service.close();
    await close();
  }
});

for (const [kind, auth, header] of [
  [
    'basic, password file',
    { type: 'basic', user: 'admin', passwordFile: 'secret' },
    `Basic ${Buffer.from('admin:s3cret!').toString('base64')}`,
  ],
  ['bearer, token file', { type: 'bearer', tokenFile: 'secret' }, 'Bearer s3cret!'],
  ['API key, key file', { type: 'apiKey', keyFile: 'secret' }, 'ApiKey s3cret!'],
] as const) {
  test(`auth: ${kind}; gzip bodies`, async () => {
    const secret = join(dir, `secret-${kind.replaceAll(/\W/g, '')}`);
    writeFileSync(secret, 's3cret!\n');
    const { cluster, nodes, urls, close } = await startBulkCluster({ node: { auth: header } });
    const { service } = openSearchService({
      endpoints: urls,
      compression: 'gzip',
      auth: { ...auth, [Object.keys(auth).find((key) => key.endsWith('File'))!]: secret },
    });
    try {
      await service.send([event('a'), event('b')], signal);
      assert.equal(cluster.documentCount, 2);
      const bulk = nodes[0]!.requests.find((request) => request.url.includes('_bulk'))!;
      assert.equal(bulk.headers['content-encoding'], 'gzip');
      assert.equal(bulk.headers['content-type'], 'application/x-ndjson');
    } finally {
      await service.close();
      await close();
    }
  });
}

test('TLS: a private CA, a client certificate (mTLS); an untrusted server is refused', async () => {
  const certificates = makeTestCertificates(dir, 'indexer.test');
  const tlsNode = {
    key: certificates.read(certificates.serverKeyFile),
    cert: certificates.read(certificates.serverCertFile),
    ca: certificates.read(certificates.caFile),
    requestCert: true,
  };
  const { cluster, urls, close } = await startBulkCluster({ node: { tls: tlsNode } });
  const tls = {
    caFile: certificates.caFile,
    certFile: certificates.clientCertFile,
    keyFile: certificates.clientKeyFile,
  };
  const trusting = openSearchService({ endpoints: urls, tls });
  const untrusting = openSearchService({
    endpoints: urls,
    tls: { certFile: tls.certFile, keyFile: tls.keyFile },
  });
  const anonymous = openSearchService({ endpoints: urls, tls: { caFile: tls.caFile } });
  try {
    assert.ok(urls[0]!.startsWith('https://'));
    await trusting.service.send([event('a')], signal);
    assert.equal(cluster.documentCount, 1);
    await assert.rejects(
      untrusting.service.send([event('b')], signal),
      /SELF_SIGNED|unable to (get|verify)|certificate|endpoint is set aside/i,
    );
    await assert.rejects(anonymous.service.send([event('c')], signal));
    assert.equal(cluster.documentCount, 1);
  } finally {
    await Promise.all([trusting, untrusting, anonymous].map(({ service }) => service.close()));
    await close();
  }
});

test('Elasticsearch is told apart from OpenSearch by GET /', async () => {
  const { urls, close } = await startBulkCluster({ flavor: 'elasticsearch' });
  const { service, metric } = openSearchService({ endpoints: urls });
  try {
    await until(
      async () =>
        (await metric(
          'keepwire_opensearch_endpoint_info',
          'distribution="elasticsearch"',
          'version="8.15.0"',
        )) === 1,
      'identification',
    );
    assert.equal(service.endpoints[0]!.info?.clusterName, 'keepwire-test');
  } finally {
    await service.close();
    await close();
  }
});
