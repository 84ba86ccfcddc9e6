import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { sinkSchema } from '../config/pipeline.ts';
import { isKeepwireError } from '../errors.ts';
import type { CliIo } from './command.ts';
import { FLAG_RANGES, httpSinkTo, resolveSink } from './ship-sink.ts';

const io: CliIo = { stdout: process.stdout, stderr: process.stderr, env: {} };
const URL = 'https://collector.example:8443/v1/events?x=1';

test('--to gives exactly what the configuration schema gives an http sink with only a url', () => {
  assert.deepEqual(httpSinkTo(URL), sinkSchema.parse({ type: 'http', url: URL }));
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
