/**
 * `POST /v1/modsecurity` as ModSecurity's HTTPS writer uses it: one record
 * per request, JSON or native, normalized to one event durable before the
 * answer; malformed records answered 400 and counted; the connection closed
 * from our side once answered, and none left in CLOSE-WAIT when the client
 * goes away first.
 */
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { closeWaitOwnedBy } from '../../../../test/support/close-wait.ts';
import { makeDataDir } from '../../../../test/support/keepwire-process.ts';
import { jsonRecords, nativeRecords } from '../../../../test/support/modsecurity-fixtures.ts';
import { waitFor } from '../../../../test/support/ship-serve.ts';
import { createLogger, createRegistry } from '../../../telemetry/index.ts';
import { DiskBuffer } from '../../buffer/disk/disk-buffer.ts';
import type { ModsecurityEvent } from '../../codecs/modsecurity/index.ts';
import { PipelineMetrics } from '../../pipeline-metrics.ts';
import { HttpSource } from './http-source.ts';
import { httpSourceSchema } from './schema.ts';

const never = new AbortController().signal;
const json = jsonRecords('real-3.0.9/json-serial.log');
const native = nativeRecords('real-3.0.9/native-serial.log');
const WRITER = { 'content-type': 'application/json', 'modsec-status': '0' };
let buffer: DiskBuffer;
let source: HttpSource;
let port: number;
const registry = createRegistry({ processMetrics: false });
const logs: Array<{ msg: string; reason: string; uniqueId?: string }> = [];

before(async () => {
  buffer = await DiskBuffer.open({
    dir: join(makeDataDir('kw-modsec-intake-'), 'b'),
    maxSizeBytes: 1024 * 1024,
    fsync: 'always',
    whenFull: 'block',
  });
  source = new HttpSource({
    name: 'waf',
    config: httpSourceSchema.parse({
      type: 'http',
      listen: '127.0.0.1:0',
      keepAliveTimeoutMs: 60_000,
    }),
    logger: createLogger(
      { level: 'warn' },
      { write: (line: string) => logs.push(JSON.parse(line)) },
    ),
    metrics: new PipelineMetrics(registry),
    append: (records) => buffer.append(records),
  });
  ({ port } = await source.start());
});

after(async () => {
  await source.stop();
  await buffer.close();
});

async function post(body: string | Buffer, headers: Record<string, string> = WRITER) {
  const response = await fetch(`http://127.0.0.1:${port}/v1/modsecurity`, {
    method: 'POST',
    body,
    headers,
  });
  return {
    status: response.status,
    headers: response.headers,
    json: (await response.json()) as {
      accepted?: number;
      error: { code: string; message: string };
    },
  };
}

async function drain(): Promise<ModsecurityEvent[]> {
  const out: ModsecurityEvent[] = [];
  while (buffer.pendingEvents > 0) {
    const batch = await buffer.read({ maxEvents: 100, maxBytes: 1 << 20, lingerMs: 0 }, never);
    out.push(...batch.records.map((record) => JSON.parse(String(record))));
    await buffer.ack(batch);
  }
  return out;
}

test('each JSON or native record becomes one normalized event, durable before the answer', async () => {
  for (const record of [json[0]!, native[1]!]) {
    const id = /(\d+\.\d+)/.exec(record.slice(0, 400))![1]!;
    const answer = await post(record, { ...WRITER, 'modsec-unique-id': id });
    assert.equal(answer.status, 200);
    assert.deepEqual(answer.json, { accepted: 1 });
    assert.equal(answer.headers.get('connection'), 'close', 'the writer never reuses it');
  }
  assert.equal(buffer.pendingEvents, 2, 'appended before the answer');
  const [fromJson, fromNative] = await drain();
  assert.equal(fromJson!.event.id, '179540874798.395940');
  assert.deepEqual(fromJson!.rule?.id, ['920350', '942100', '949110']);
  assert.deepEqual(fromJson!.source, { ip: '127.0.0.1', port: 48760 });
  assert.equal(fromJson!.http?.response?.status_code, 403);
  assert.equal(fromJson!.event.original, json[0]);
  assert.equal(fromNative!.modsecurity.format, 'native');
  assert.equal(fromNative!.event.original, native[1]);
  assert.deepEqual(fromNative!.rule?.id, ['913100', '920350', '949110']);
});

test('a record without its own id takes the ModSec-unique-id header', async () => {
  const record = JSON.parse(json[1]!);
  delete record.transaction.unique_id;
  const answer = await post(JSON.stringify(record), { ...WRITER, 'modsec-unique-id': 'abc.123' });
  assert.equal(answer.status, 200);
  const [event] = await drain();
  assert.equal(event!.event.id, 'abc.123');
});

test('malformed records get 400 SHIP_RECORD_MALFORMED, are counted, and nothing is kept', async () => {
  const cases: Array<[string | Buffer, RegExp]> = [
    [json[2]!.slice(0, 300), /truncated/],
    [native[2]!.slice(0, native[2]!.indexOf('---H--')), /no Z boundary/],
    [Buffer.from([0x00, 0xff, 0x13, 0x37, 0x80, 0x01]), /binary/],
    ['', /empty/],
    ['{"not":"modsecurity"}', /no "transaction"/],
  ];
  for (const [body, reason] of cases) {
    const answer = await post(body, { ...WRITER, 'modsec-unique-id': 'bad.1' });
    assert.equal(answer.status, 400);
    assert.equal(answer.json.error.code, 'SHIP_RECORD_MALFORMED');
    assert.match(answer.json.error.message, reason);
  }
  assert.equal(buffer.pendingEvents, 0);
  const refused = logs.filter((line) => line.msg === 'ModSecurity audit record refused');
  assert.equal(refused.length, cases.length, 'each one logged');
  assert.equal(refused[0]!.uniqueId, 'bad.1');
  assert.match(refused[0]!.reason, /truncated/);
  const metrics = await registry.getSingleMetricAsString('keepwire_pipeline_events_rejected_total');
  assert.match(metrics, /source="waf",reason="invalid"} 5|reason="invalid",source="waf"} 5/);
});

test('a writer that goes away, idle or mid-request, leaves no CLOSE-WAIT on our side', async () => {
  const sockets: Socket[] = [];
  for (const halfWay of [false, true]) {
    const socket = connect(port, '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    const body = json[3]!;
    const head = `POST /v1/modsecurity HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n`;
    // Idle: a keep-alive client (no ModSec-* header) that got its answer, then left.
    // Mid-request: half the body, then gone.
    socket.write(halfWay ? head + body.slice(0, 100) : head + body);
    if (!halfWay) await new Promise((resolve) => socket.once('data', resolve));
    socket.resume();
    socket.end();
    sockets.push(socket);
  }
  const ours = () =>
    closeWaitOwnedBy(process.pid).filter((line) => line.includes(`127.0.0.1:${port} `));
  await waitFor(() => sockets.every((socket) => socket.closed), 10_000, 'both connections closed');
  assert.deepEqual(ours(), []);
  await drain();
});
