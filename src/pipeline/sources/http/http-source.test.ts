import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { makeDataDir } from '../../../../test/support/keepwire-process.ts';
import { fixturePath } from '../../../../test/support/modsecurity-fixtures.ts';
import { hashToken } from '../../../auth/token.ts';
import { createLogger, createRegistry } from '../../../telemetry/index.ts';
import { DiskBuffer } from '../../buffer/disk/disk-buffer.ts';
import { PipelineMetrics } from '../../pipeline-metrics.ts';
import { HttpSource } from './http-source.ts';
import { httpSourceSchema } from './schema.ts';

const MODSEC = fixturePath('real-3.0.9/json-serial.log');
const never = new AbortController().signal;
let buffer: DiskBuffer;
let source: HttpSource;
let url: string;
const registry = createRegistry({ processMetrics: false });

before(async () => {
  buffer = await DiskBuffer.open({
    dir: join(makeDataDir('kw-httpsrc-'), 'b'),
    maxSizeBytes: 64 * 1024,
    fsync: 'always',
    whenFull: 'block',
    retryAfterMs: 2000,
  });
  const config = httpSourceSchema.parse({
    type: 'http',
    listen: '127.0.0.1:0',
    bodyLimitBytes: 20_000,
    maxLineBytes: 2_000,
  });
  source = new HttpSource({
    name: 'intake',
    config,
    logger: createLogger({ level: 'silent' }),
    metrics: new PipelineMetrics(registry),
    append: (records) => buffer.append(records),
  });
  const address = await source.start();
  url = `http://127.0.0.1:${address.port}`;
});

after(async () => {
  await source.stop();
  await buffer.close();
});

async function post(path: string, body: string | Buffer, headers: Record<string, string> = {}) {
  const response = await fetch(url + path, { method: 'POST', body, headers });
  return {
    status: response.status,
    headers: response.headers,
    json: (await response.json()) as { accepted: number; error: { code: string; message: string } },
  };
}

async function drain(): Promise<string[]> {
  const out: string[] = [];
  while (buffer.pendingEvents > 0) {
    const batch = await buffer.read({ maxEvents: 1000, maxBytes: 1 << 20, lingerMs: 0 }, never);
    out.push(...batch.records.map(String));
    await buffer.ack(batch);
  }
  return out;
}

test('NDJSON, a JSON array and gzip are appended durably before the answer', async () => {
  assert.deepEqual((await post('/v1/events', '{"a":1}\r\n\n{"b":2}\n')).json, { accepted: 2 });
  assert.equal(buffer.pendingEvents, 2);
  assert.equal((await post('/v1/events', '[{"c":3}, {"d":[4]}]')).status, 200);
  const gzipped = gzipSync('{"e":5}\n');
  assert.equal((await post('/v1/events', gzipped, { 'content-encoding': 'gzip' })).status, 200);
  assert.deepEqual(await drain(), ['{"a":1}', '{"b":2}', '{"c":3}', '{"d":[4]}', '{"e":5}']);
});

test('ModSecurity HTTPS audit-log POSTs are accepted on both paths', async () => {
  const [first, second] = readFileSync(MODSEC, 'utf8').split('\n');
  const headers = { 'content-type': 'application/json', 'modsec-unique-id': '179540874798.395940' };
  assert.equal((await post('/v1/modsecurity', `${first}\n`, headers)).status, 200);
  assert.equal((await post('/v1/events', second!, headers)).status, 200);
  const records = (await drain()).map((text) => JSON.parse(text));
  assert.equal(records.length, 2);
  assert.equal(records[0].event.id, JSON.parse(first!).transaction.unique_id);
  assert.equal(records[1].modsecurity.producer, 'ModSecurity v3.0.9 (Linux)');
  assert.equal(records[1].event.original, second, 'normalized, the record kept as sent');
});

test('malformed input gets a clear 4xx and nothing is kept', async () => {
  const invalid = await post('/v1/events', '{"ok":1}\n{"broken":\n');
  assert.equal(invalid.status, 400);
  assert.equal(invalid.json.error.code, 'SHIP_INPUT_INVALID');
  assert.match(invalid.json.error.message, /line 2/);
  const binary = await post('/v1/events', Buffer.from([0x7b, 0x00, 0xff, 0xfe, 0x01, 0x7d]));
  assert.equal(binary.status, 400);
  assert.match(binary.json.error.message, /binary/);
  const longLine = await post('/v1/events', `{"x":"${'y'.repeat(3000)}"}\n`);
  assert.equal(longLine.status, 413);
  assert.match(longLine.json.error.message, /line 1 .*maxLineBytes/);
  const body = await post('/v1/events', `${'{"x":1}\n'.repeat(3000)}`);
  assert.equal(body.status, 413);
  const bomb = await post('/v1/events', gzipSync(`${'{"x":1}\n'.repeat(10_000)}`), {
    'content-encoding': 'gzip',
  });
  assert.equal(bomb.status, 413);
  const gzipped = gzipSync('{"e":5}\n');
  const truncated = await post('/v1/events', gzipped.subarray(0, gzipped.length >> 1), {
    'content-encoding': 'gzip',
  });
  assert.equal(truncated.status, 400);
  assert.match(truncated.json.error.message, /gzip/);
  assert.equal(buffer.pendingEvents, 0);
  const metrics = await registry.getSingleMetricAsString('keepwire_pipeline_events_rejected_total');
  assert.match(metrics, /reason="too_large"} 3/);
});

test('a full buffer answers 503 with Retry-After; what was accepted is kept', async () => {
  const line = `{"pad":"${'p'.repeat(900)}"}\n`;
  let accepted = 0;
  let full: Awaited<ReturnType<typeof post>> | undefined;
  for (let i = 0; i < 200 && !full; i++) {
    const answer = await post('/v1/events', line.repeat(5));
    if (answer.status === 200) accepted += answer.json.accepted;
    else full = answer;
  }
  assert.ok(full, 'the buffer filled up');
  assert.equal(full.status, 503);
  assert.equal(full.json.error.code, 'SHIP_BUFFER_FULL');
  assert.equal(full.headers.get('retry-after'), '2');
  assert.equal((await drain()).length, accepted);
  assert.equal((await post('/v1/events', line)).status, 200);
  await drain();
});

test('a request larger than the buffer can ever hold gets 413 (split it), every time', async () => {
  const small = await DiskBuffer.open({
    dir: join(makeDataDir('kw-httpsrc-small-'), 'b'),
    maxSizeBytes: 4096,
    fsync: 'never',
    whenFull: 'block',
  });
  const tight = new HttpSource({
    name: 'tight',
    config: httpSourceSchema.parse({ type: 'http', listen: '127.0.0.1:0' }),
    logger: createLogger({ level: 'silent' }),
    metrics: new PipelineMetrics(createRegistry({ processMetrics: false })),
    append: (records) => small.append(records),
  });
  const { port } = await tight.start();
  try {
    const body = `{"pad":"${'p'.repeat(900)}"}\n`.repeat(6);
    for (let attempt = 0; attempt < 2; attempt++) {
      const response = await fetch(`http://127.0.0.1:${port}/v1/events`, { method: 'POST', body });
      const json = (await response.json()) as { error: { code: string; message: string } };
      assert.equal(response.status, 413);
      assert.equal(json.error.code, 'SHIP_APPEND_TOO_LARGE');
      assert.match(json.error.message, /split the request.*maxSizeBytes/);
    }
    assert.equal(small.pendingEvents, 0);
    const fits = await fetch(`http://127.0.0.1:${port}/v1/events`, {
      method: 'POST',
      body: body.slice(0, body.length / 2),
    });
    assert.equal(fits.status, 200);
  } finally {
    await tight.stop();
    await small.close();
  }
});

test('with a token configured, requests without it get 401', async () => {
  const config = httpSourceSchema.parse({
    type: 'http',
    listen: '127.0.0.1:0',
    tokenHash: hashToken('secret-token'),
  });
  const guarded = new HttpSource({
    name: 'guarded',
    config,
    logger: createLogger({ level: 'silent' }),
    metrics: new PipelineMetrics(createRegistry({ processMetrics: false })),
    append: (records) => buffer.append(records),
  });
  const { port } = await guarded.start();
  try {
    const denied = await fetch(`http://127.0.0.1:${port}/v1/events`, {
      method: 'POST',
      body: '{"a":1}',
    });
    assert.equal(denied.status, 401);
    const allowed = await fetch(`http://127.0.0.1:${port}/v1/events`, {
      method: 'POST',
      body: '{"a":1}',
      headers: { authorization: 'Bearer secret-token' },
    });
    assert.equal(allowed.status, 200);
    assert.deepEqual(await drain(), ['{"a":1}']);
  } finally {
    await guarded.stop();
  }
});
