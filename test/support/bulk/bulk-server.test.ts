/**
 * The `_bulk` test server against the protocol the OpenSearch Bulk API
 * documents, through real HTTP: what a test of the sink relies on.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { startBulkCluster } from './index.ts';

const post = (url: string, body: string | Buffer, headers: Record<string, string> = {}) =>
  fetch(url, {
    method: 'POST',
    body,
    headers: { 'content-type': 'application/x-ndjson', ...headers },
  });

test('GET / says the distribution; _bulk stores, conflicts on create, refuses a bad mapping', async () => {
  const { cluster, urls, close } = await startBulkCluster({ nodes: 2 });
  try {
    const info = (await (await fetch(`${urls[0]}/`)).json()) as {
      version: { distribution: string; number: string };
    };
    assert.equal(info.version.distribution, 'opensearch');
    cluster.mappings = { 'http.status': 'long' };
    const body =
      '{"create":{"_index":"a","_id":"1"}}\n{"n":1}\n' +
      '{"index":{"_id":"2"}}\n{"n":2}\n' +
      '{"create":{"_index":"a","_id":"3"}}\n{"http":{"status":"abc"}}\n' +
      '{"delete":{"_index":"a","_id":"nope"}}\n';
    const first = (await (await post(`${urls[0]}/a/_bulk`, body)).json()) as {
      errors: boolean;
      items: Record<string, { status: number; error?: { type: string } }>[];
    };
    assert.equal(first.errors, true);
    assert.deepEqual(
      first.items.map((item) => Object.values(item)[0]!.status),
      [201, 201, 400, 404],
    );
    assert.equal(first.items[2]!.create!.error!.type, 'mapper_parsing_exception');
    // The second node shares the store: a create of the same _id conflicts.
    const second = await (
      await post(
        `${urls[1]}/_bulk?filter_path=errors,items.*.status,items.*.error.type`,
        gzipSync('{"create":{"_index":"a","_id":"1"}}\n{"n":9}\n'),
        { 'content-encoding': 'gzip' },
      )
    ).json();
    assert.deepEqual(second, {
      errors: true,
      items: [{ create: { status: 409, error: { type: 'version_conflict_engine_exception' } } }],
    });
    assert.equal(cluster.documentCount, 2);
    assert.deepEqual(JSON.parse(cluster.indices.get('a')!.get('1')!.source), { n: 1 });
  } finally {
    await close();
  }
});

test('whole-request errors: no final newline, no index, an _id over 512 bytes, 413, a queued 429', async () => {
  const { nodes, urls, close } = await startBulkCluster({ node: { maxContentLengthBytes: 200 } });
  try {
    assert.equal((await post(`${urls[0]}/_bulk`, '{"index":{"_index":"a"}}\n{}')).status, 400);
    assert.equal((await post(`${urls[0]}/_bulk`, '{"index":{}}\n{}\n')).status, 400);
    assert.equal(
      (await post(`${urls[0]}/_bulk`, `{"index":{"_index":"a","_id":"${'x'.repeat(100)}"}}\n{}\n`))
        .status,
      200,
    );
    assert.equal(
      (await post(`${urls[0]}/_bulk`, `{"index":{"_index":"a","_id":"${'x'.repeat(180)}"}}\n{}\n`))
        .status,
      413,
    );
    assert.equal(
      (
        await post(`${urls[0]}/_bulk`, '{"index":{"_index":"a"}}\n{}\n', {
          'content-type': 'text/plain',
        })
      ).status,
      406,
    );
    nodes[0]!.answerNext.push({ status: 429, headers: { 'retry-after': '3' } });
    const throttled = await post(`${urls[0]}/_bulk`, '{"index":{"_index":"a"}}\n{}\n');
    assert.equal(throttled.status, 429);
    assert.equal(throttled.headers.get('retry-after'), '3');
  } finally {
    await close();
  }
});

test('seeded item faults replay the same statuses', async () => {
  const statuses: number[][] = [];
  for (let run = 0; run < 2; run += 1) {
    const { cluster, urls, close } = await startBulkCluster();
    cluster.setFaults({ seed: 42, rate429: 0.2, rate500: 0.2 });
    let body = '';
    for (let id = 0; id < 50; id += 1) body += `{"create":{"_index":"a","_id":"${id}"}}\n{}\n`;
    const answer = (await (await post(`${urls[0]}/_bulk`, body)).json()) as {
      items: { create: { status: number } }[];
    };
    statuses.push(answer.items.map((item) => item.create.status));
    await close();
  }
  assert.deepEqual(statuses[0], statuses[1]);
  assert.ok(statuses[0]!.includes(429) && statuses[0]!.includes(500) && statuses[0]!.includes(201));
});

test('a node stops (every socket closed) and comes back on the same port', async () => {
  const { nodes, urls, close } = await startBulkCluster();
  try {
    const port = nodes[0]!.port;
    await fetch(`${urls[0]}/`);
    await nodes[0]!.stop();
    await assert.rejects(fetch(`${urls[0]}/`));
    await nodes[0]!.start();
    assert.equal(nodes[0]!.port, port);
    assert.equal((await fetch(`${urls[0]}/`)).status, 200);
  } finally {
    await close();
  }
});
