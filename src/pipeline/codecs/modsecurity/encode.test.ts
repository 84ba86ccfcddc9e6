/**
 * encodeModsecurityEvent is what a framer calls to get the text a sink
 * writes: it must give exactly JSON.stringify(decodeModsecurity(record)),
 * and refuse exactly the records decodeModsecurity refuses, with the same
 * message, on every real and hand-written record and on seeded mutations.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { jsonRecords, nativeRecords } from '../../../../test/support/modsecurity-fixtures.ts';
import { seededRandom, testSeed } from '../../../../test/support/seeded-random.ts';
import { decodeModsecurity, encodeModsecurityEvent, ModsecurityRecordError } from './index.ts';

const records = [
  ...jsonRecords('real-3.0.9/json-serial.log'),
  ...nativeRecords('real-3.0.9/native-serial.log'),
  ...jsonRecords('audit-serial.jsonl'),
  ...nativeRecords('audit-native.log'),
];

const INSERTS = ['"', '\\', '\u0000', '\ud800', '{', '}', '\n'];

/** The text, or the refusal's message. */
function outcome(run: () => string): string {
  try {
    return run();
  } catch (error) {
    assert.ok(error instanceof ModsecurityRecordError, String(error));
    return `refused: ${error.message}`;
  }
}

function assertSame(record: string): void {
  for (const localTimeZone of ['local', 'utc'] as const) {
    const options = { localTimeZone };
    assert.equal(
      outcome(() => encodeModsecurityEvent(record, options)),
      outcome(() => JSON.stringify(decodeModsecurity(record, options))),
      JSON.stringify(record.slice(0, 200)),
    );
  }
}

test('every fixture record encodes to JSON.stringify of its decoded event', () => {
  assert.ok(records.length >= 18);
  for (const record of records) {
    assertSame(record);
    assert.equal(JSON.parse(encodeModsecurityEvent(record)).event.original, record);
  }
});

test('seeded cuts and character changes encode or are refused as decoding does', () => {
  const random = seededRandom(testSeed('modsecurity encode'));
  let refused = 0;
  for (const record of records) {
    for (let round = 0; round < 50; round++) {
      const at = Math.floor(random() * record.length);
      const damaged =
        random() < 0.5
          ? record.slice(0, at)
          : record.slice(0, at) + INSERTS[Math.floor(random() * INSERTS.length)] + record.slice(at);
      assertSame(damaged);
      if (outcome(() => encodeModsecurityEvent(damaged)).startsWith('refused: ')) refused++;
    }
  }
  assert.ok(refused > 0);
});
