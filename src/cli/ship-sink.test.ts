import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { sinkSchema } from '../config/pipeline.ts';
import { isKeepwireError } from '../errors.ts';
import type { CliIo } from './command.ts';
import { FLAG_RANGES, resolveSink, sinkTo } from './ship-sink.ts';

const io: CliIo = { stdout: process.stdout, stderr: process.stderr, env: {} };
const URL = 'https://collector.example:8443/v1/events?x=1';

test('--to gives exactly what the configuration schema gives an http sink with only a url', () => {
  assert.deepEqual(sinkTo(URL, {}), sinkSchema.parse({ type: 'http', url: URL }));
});

test('--to with flags gives what the schema gives the same settings, for http and opensearch', () => {
  const nodes = ['https://node-1:9200', 'https://node-2:9200/prefix'];
  const NODE = nodes[0]!;
  const cases: Array<[Parameters<typeof sinkTo>[1], Record<string, unknown>]> = [
    [
      { user: 'admin', 'password-file': '/p', 'ca-file': '/ca.pem', gzip: true },
      {
        type: 'http',
        url: URL,
        auth: { type: 'basic', user: 'admin', passwordFile: '/p' },
        tls: { caFile: '/ca.pem' },
        compression: 'gzip',
      },
    ],
    [{ sink: 'opensearch' }, { type: 'opensearch', endpoints: [NODE] }],
    [
      {
        sink: 'opensearch',
        index: 'wazuh-alerts-4.x-%Y.%m.%d',
        action: 'index',
        'api-key-file': '/k',
      },
      {
        type: 'opensearch',
        endpoints: [NODE],
        index: 'wazuh-alerts-4.x-%Y.%m.%d',
        action: 'index',
        auth: { type: 'apiKey', keyFile: '/k' },
      },
    ],
    [
      { sink: 'opensearch', 'token-file': '/t', gzip: true, 'ca-file': '/ca.pem' },
      {
        type: 'opensearch',
        endpoints: [NODE],
        auth: { type: 'bearer', tokenFile: '/t' },
        compression: 'gzip',
        tls: { caFile: '/ca.pem' },
      },
    ],
  ];
  for (const [flags, input] of cases) {
    const to = input.type === 'http' ? URL : NODE;
    assert.deepEqual(sinkTo(to, flags), sinkSchema.parse(input), JSON.stringify(flags));
  }
  assert.deepEqual(
    sinkTo(nodes.join(','), { sink: 'opensearch' }),
    sinkSchema.parse({ type: 'opensearch', endpoints: nodes }),
  );
});

test('the flag ranges are the schema bounds of the options they override', () => {
  const withOverrides = (concurrency: number, maxEvents: number, maxBytes: number) =>
    sinkSchema.safeParse({ type: 'http', url: URL, concurrency, batch: { maxEvents, maxBytes } })
      .success;
  const { concurrency } = FLAG_RANGES;
  const events = FLAG_RANGES['batch-max-events'].min;
  const bytes = FLAG_RANGES['batch-max-bytes'].min;
  assert.ok(withOverrides(concurrency.min, events, bytes));
  assert.ok(withOverrides(concurrency.max, events, bytes));
  assert.ok(!withOverrides(concurrency.min - 1, events, bytes));
  assert.ok(!withOverrides(concurrency.max + 1, events, bytes));
  assert.ok(!withOverrides(concurrency.min, events - 1, bytes));
  assert.ok(!withOverrides(concurrency.min, events, bytes - 1));
});

test('flags override the sink of --to and of --config; bad values are usage errors', async () => {
  const flags = { to: URL, concurrency: '8', 'batch-max-events': '50', 'batch-max-bytes': '2048' };
  const sink = await resolveSink(flags, io);
  assert.equal(sink.concurrency, 8);
  assert.deepEqual(sink.batch, { maxEvents: 50, maxBytes: 2048, lingerMs: 100 });

  const dir = mkdtempSync(join(tmpdir(), 'kw-ship-sink-'));
  const config = join(dir, 'keepwire.yaml');
  writeFileSync(
    config,
    'pipeline:\n  sinks:\n    a: { type: http, url: "http://127.0.0.1:1/", concurrency: 2 }\n    b: { type: blackhole }\n',
  );
  const configured = await resolveSink({ config, sink: 'a', 'batch-max-events': '7' }, io);
  assert.equal(configured.type, 'http');
  assert.equal(configured.concurrency, 2);
  assert.equal(configured.batch.maxEvents, 7);

  for (const bad of [
    { to: 'ftp://x/' },
    { to: 'http://user:pw@x/' },
    { to: `${URL},${URL}` },
    { to: 'http://n:9200,http://n:9200/', sink: 'opensearch' },
    { to: URL, sink: 'opensearch' },
    { to: URL, sink: 'file' },
    { to: URL, index: 'x' },
    { to: URL, sink: 'opensearch', index: 'Upper-%Y' },
    { to: URL, sink: 'opensearch', index: 'x-%q' },
    { to: URL, sink: 'opensearch', action: 'upsert' },
    { to: URL, user: 'u' },
    { to: URL, 'token-file': '/t', 'api-key-file': '/k' },
    { config, sink: 'a', gzip: true },
    { to: 'not a url' },
    { to: URL, concurrency: '257' },
    { to: URL, 'batch-max-bytes': '1023' },
    { config, sink: 'missing' },
    {},
    { to: URL, config },
  ]) {
    await assert.rejects(
      resolveSink(bad, io),
      (error) => isKeepwireError(error) && error.code === 'USAGE',
      JSON.stringify(bad),
    );
  }
});
