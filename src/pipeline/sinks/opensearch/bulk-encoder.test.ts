import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { BodyPool } from '../body-pool.ts';
import { type BulkAction, BulkEncoder } from './bulk-encoder.ts';
import { IndexTemplate } from './index-template.ts';

const NOW = Date.parse('2030-01-02T03:04:05Z');

function encoder(action: BulkAction = 'create', template = 'alerts-%Y.%m.%d') {
  return new BulkEncoder({
    action,
    index: new IndexTemplate(template),
    idField: 'event.id',
    timestampField: '@timestamp',
    now: () => NOW,
  });
}

/** The body as [action, source bytes] pairs; checks the NDJSON framing on the way. */
function pairs(body: Buffer): Array<[Record<string, { _index: string; _id: string }>, string]> {
  const text = body.toString('utf8');
  assert.ok(text.endsWith('\n'), 'the last line ends in a newline');
  const lines = text.slice(0, -1).split('\n');
  assert.equal(lines.length % 2, 0);
  const result: Array<[Record<string, { _index: string; _id: string }>, string]> = [];
  for (let at = 0; at < lines.length; at += 2)
    result.push([JSON.parse(lines[at]!), lines[at + 1]!]);
  return result;
}

const sha = (text: string) => createHash('sha256').update(text).digest('base64url');

test('the index comes from the UTC date of @timestamp, else from the time of ingest', () => {
  const records = [
    '{"@timestamp":"2024-05-06T23:59:59.999Z","event":{"id":"a"}}',
    '{"@timestamp":"2024-05-06T23:30:00+00:00","event":{"id":"b"}}',
    '{"@timestamp":"2024-05-07T01:00:00+02:00","event":{"id":"c"}}',
    '{"@timestamp":"2024-05-06T22:00:00-0300","event":{"id":"d"}}',
    '{"@timestamp":"2024-05-06T12:00:00","event":{"id":"e"}}',
    '{"@timestamp":1715040000000,"event":{"id":"f"}}',
    '{"@timestamp":"not a date","event":{"id":"g"}}',
    '{"event":{"id":"h"}}',
    '{"@timestamp":"2024-05-06T10:00:00\\u005a","event":{"id":"i"}}',
  ];
  const body = encoder().encode(records.map((record) => Buffer.from(record)));
  assert.deepEqual(
    pairs(body).map(([action]) => action.create!._index),
    [
      'alerts-2024.05.06',
      'alerts-2024.05.06',
      'alerts-2024.05.06', // 01:00 at +02:00 is 23:00 the day before
      'alerts-2024.05.07', // 22:00 at -03:00 is 01:00 the next day
      'alerts-2024.05.06', // no offset: taken as UTC
      'alerts-2024.05.07', // epoch milliseconds
      'alerts-2030.01.02', // unusable: the time of ingest
      'alerts-2030.01.02',
      'alerts-2024.05.06', // escaped, through the slow path
    ],
  );
  assert.deepEqual(
    pairs(body).map(([, source]) => source),
    records,
    'each record is copied as it is',
  );
});

test('the _id: event.id as written, a number, else the SHA-256 of the record', () => {
  const long = 'x'.repeat(513);
  const records = [
    '{"event":{"id":"ZiA3xQ-unique"}}',
    '{"event":{"id":"quote\\"and\\\\slash"}}',
    '{"event":{"id":1234567}}',
    '{"event.id":"flattened"}',
    '{"event":{"id":""}}',
    `{"event":{"id":"${long}"}}`,
    '{"event":{"id":{"nested":1}}}',
    '{"other":1}',
  ];
  const body = encoder('index').encode(records.map((record) => Buffer.from(record)));
  assert.deepEqual(
    pairs(body).map(([action]) => action.index!._id),
    [
      'ZiA3xQ-unique',
      'quote"and\\slash',
      '1234567',
      'flattened',
      sha(records[4]!),
      sha(records[5]!),
      sha(records[6]!),
      sha(records[7]!),
    ],
  );
  const again = encoder('index').encode(records.map((record) => Buffer.from(record)));
  assert.ok(again.equals(body), 'the same records always make the same body');
});

test('a constant index, and %H', () => {
  const records = [Buffer.from('{"@timestamp":"2024-05-06T07:08:09Z"}')];
  assert.equal(
    pairs(encoder('create', 'modsecurity').encode(records))[0]![0].create!._index,
    'modsecurity',
  );
  assert.equal(
    pairs(encoder('create', 'm-%Y%m%d%H').encode(records))[0]![0].create!._index,
    'm-2024050607',
  );
});

test('bodies from a BodyPool hold exactly the batch, batch after batch', () => {
  const pool = new BodyPool(2);
  const bulk = encoder();
  const make = (count: number, from: number) =>
    Array.from({ length: count }, (_, i) =>
      Buffer.from(
        JSON.stringify({
          '@timestamp': '2024-05-06T00:00:00Z',
          event: { id: `id-${from + i}` },
          pad: 'p'.repeat(300),
        }),
      ),
    );
  const first = bulk.encode(make(400, 0), (bytes) => pool.acquire(bytes));
  const memory = first.buffer;
  pool.release(first);
  const second = bulk.encode(make(300, 1000), (bytes) => pool.acquire(bytes));
  assert.equal(second.buffer, memory, 'the memory was reused');
  const ids = pairs(second).map(([action]) => action.create!._id);
  assert.deepEqual(
    ids,
    Array.from({ length: 300 }, (_, i) => `id-${1000 + i}`),
  );
});
