import assert from 'node:assert/strict';
import { test } from 'node:test';
import { seededRandom, testSeed } from '../../../../test/support/seeded-random.ts';
import { FieldPath, type FieldSpan } from './field-scanner.ts';

function fieldValue(path: string, text: string): unknown {
  const record = Buffer.from(text);
  const span: FieldSpan = { start: -1, end: -1 };
  new FieldPath(path).find(record, span);
  return span.start < 0 ? undefined : JSON.parse(record.toString('utf8', span.start, span.end));
}

test('finds top-level, nested and dotted fields, whatever comes before them', () => {
  const text = JSON.stringify({
    a: 'x"}{,',
    b: [1, { id: 'not this' }, '"]'],
    c: { d: { e: null } },
    '@timestamp': '2024-05-06T12:34:56Z',
    event: { kind: 'alert', id: 'ZiA3xQ' },
  });
  assert.equal(fieldValue('@timestamp', text), '2024-05-06T12:34:56Z');
  assert.equal(fieldValue('event.id', text), 'ZiA3xQ');
  assert.equal(fieldValue('c.d.e', text), null);
  assert.deepEqual(fieldValue('c', text), { d: { e: null } });
  assert.equal(fieldValue('event.missing', text), undefined);
  assert.equal(fieldValue('missing', text), undefined);
  assert.equal(fieldValue('a.b', text), undefined, 'a string is not an object');
  assert.equal(fieldValue('event.id', '{"event.id":"flat","x":1}'), 'flat');
  assert.equal(fieldValue('event.id', '{ "event" : { "id" : 42 } }'), 42);
  assert.equal(
    fieldValue('id', '{"id":"a\\\\"}'),
    'a\\',
    'a string ending in an escaped backslash',
  );
  assert.equal(fieldValue('id', '{"x":"\\\\\\"","id":"y"}'), 'y');
});

test('not an object, empty, truncated: nothing found, nothing thrown', () => {
  for (const text of ['[]', '{}', '"id"', '{"id"', '{"id":', '{"a":"x', '{"a":{"b":1}', ' ']) {
    assert.equal(fieldValue('id', text), undefined, text);
  }
});

test('seeded random documents: the scanner agrees with JSON.parse', () => {
  const random = seededRandom(testSeed('field scanner'));
  const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)]!;
  const strings = ['', 'x', 'a"b', 'back\\slash', '}{][,:', 'é€😀', '\u0001\n\t', 'id'];
  const value = (depth: number): unknown => {
    const roll = random();
    if (depth > 3 || roll < 0.4) return pick([1, -2.5e3, true, false, null, pick(strings)]);
    if (roll < 0.7) return Array.from({ length: Math.floor(random() * 4) }, () => value(depth + 1));
    return object(depth + 1);
  };
  const keys = ['id', 'event', 'a', '@timestamp', 'event.id', 'x"y'];
  const object = (depth: number): Record<string, unknown> => {
    const result: Record<string, unknown> = {};
    for (let i = Math.floor(random() * 5); i > 0; i -= 1) result[pick(keys)] = value(depth);
    return result;
  };
  for (let round = 0; round < 2_000; round += 1) {
    const document = object(0);
    const text = random() < 0.5 ? JSON.stringify(document) : JSON.stringify(document, null, 2);
    const event = document.event as Record<string, unknown> | undefined;
    // The nested field first; the flattened spelling when there is none.
    const nested =
      event !== null && typeof event === 'object' && !Array.isArray(event) && 'id' in event
        ? event.id
        : document['event.id'];
    assert.deepEqual(fieldValue('id', text), document.id, text);
    assert.deepEqual(fieldValue('@timestamp', text), document['@timestamp'], text);
    assert.deepEqual(fieldValue('event.id', text), nested, text);
  }
});
