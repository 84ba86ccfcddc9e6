import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parsesAsObject, JSON_SAMPLES as SAMPLES } from '../../../test/support/json-samples.ts';
import { jsonRecords } from '../../../test/support/modsecurity-fixtures.ts';
import { isJsonObject, MAX_DEPTH } from './json-object-check.ts';

test('agrees with JSON.parse on hand-picked valid and invalid documents', () => {
  for (const text of SAMPLES)
    assert.equal(isJsonObject(Buffer.from(text)), parsesAsObject(text), text);
});

test('agrees with JSON.parse on real ModSecurity records and random mutations of them', () => {
  const lines = jsonRecords('real-3.0.9/json-serial.log');
  let seed = 7;
  const random = () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
  const alphabet = '{}[]":,\\ 0-1e.truefalsn\t\u0001x';
  for (const line of lines) {
    assert.equal(isJsonObject(Buffer.from(line)), true);
    for (let round = 0; round < 400; round++) {
      const chars = [...line];
      const at = Math.floor(random() * chars.length);
      const kind = random();
      if (kind < 0.4) chars.splice(at, 1);
      else if (kind < 0.8) chars[at] = alphabet[Math.floor(random() * alphabet.length)]!;
      else chars.splice(at, 0, alphabet[Math.floor(random() * alphabet.length)]!);
      const text = chars.join('');
      assert.equal(
        isJsonObject(Buffer.from(text)),
        parsesAsObject(text),
        text.slice(Math.max(0, at - 20), at + 20),
      );
    }
  }
});

test('nesting up to MAX_DEPTH is checked; deeper is refused, never a crash', () => {
  const nested = (depth: number) => `{"a":${'['.repeat(depth - 1)}${']'.repeat(depth - 1)}}`;
  assert.equal(isJsonObject(Buffer.from(nested(MAX_DEPTH))), true);
  assert.equal(isJsonObject(Buffer.from(nested(MAX_DEPTH + 1))), false);
  assert.equal(isJsonObject(Buffer.from(`{"a":${'['.repeat(MAX_DEPTH - 1)}}`)), false);
  assert.equal(isJsonObject(Buffer.from('{"a":1}')), true, 'the shared stack starts afresh');
});

test('strings must be valid UTF-8: TextDecoder with fatal decides, for every edge', () => {
  const strict = new TextDecoder('utf-8', { fatal: true });
  const edges = [
    [0xc3, 0xa9], // é
    [0xe2, 0x82, 0xac], // €
    [0xf0, 0x9f, 0x98, 0x80], // U+1F600
    [0xf4, 0x8f, 0xbf, 0xbf], // U+10FFFF
    [0xff],
    [0x80],
    [0xc0, 0xaf], // overlong "/"
    [0xc1, 0xbf],
    [0xe0, 0x80, 0xaf], // overlong
    [0xed, 0xa0, 0x80], // a surrogate
    [0xf0, 0x80, 0x80, 0xaf], // overlong
    [0xf4, 0x90, 0x80, 0x80], // above U+10FFFF
    [0xf5, 0x80, 0x80, 0x80],
    [0xc3], // cut short
    [0xe2, 0x82],
    [0xf0, 0x9f, 0x98],
    [0xe2, 0x28, 0xa1],
  ];
  for (const edge of edges) {
    const bytes = Buffer.concat([Buffer.from('{"k":"a'), Buffer.from(edge), Buffer.from('b"}')]);
    let isValid = true;
    try {
      strict.decode(bytes);
    } catch {
      isValid = false;
    }
    assert.equal(isJsonObject(bytes), isValid, Buffer.from(edge).toString('hex'));
    const key = Buffer.concat([Buffer.from('{"'), Buffer.from(edge), Buffer.from('":1}')]);
    assert.equal(isJsonObject(key), isValid, `in a key: ${Buffer.from(edge).toString('hex')}`);
  }
});
