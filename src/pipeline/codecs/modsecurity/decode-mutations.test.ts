/**
 * Damaged records never crash the decoder: every mutation of a real record
 * (characters deleted, replaced or inserted; lines dropped, duplicated or
 * swapped; the record cut anywhere) either decodes, keeping the text as
 * `event.original`, or throws ModsecurityRecordError. A TypeError or a
 * RangeError here is a bug a real log would hit.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { jsonRecords, nativeRecords } from '../../../../test/support/modsecurity-fixtures.ts';
import { seededRandom, testSeed } from '../../../../test/support/seeded-random.ts';
import { decodeModsecurity, type ModsecurityEvent, ModsecurityRecordError } from './index.ts';

const records = [
  ...jsonRecords('real-3.0.9/json-serial.log'),
  ...nativeRecords('real-3.0.9/native-serial.log'),
  ...jsonRecords('audit-serial.jsonl'),
  ...nativeRecords('audit-native.log'),
];
const ALPHABET = '{}[]":,\\ 0-1e.\n\r\t\u0000-A-Z--[]x';

function mutate(record: string, random: () => number): string {
  const pick = (n: number) => Math.floor(random() * n);
  const kind = pick(5);
  if (kind === 0) return record.slice(0, pick(record.length + 1));
  if (kind <= 2) {
    const chars = [...record];
    for (let i = 1 + pick(4); i > 0; i--) {
      const at = pick(chars.length);
      const char = ALPHABET[pick(ALPHABET.length)]!;
      if (kind === 1) chars.splice(at, 1);
      else if (random() < 0.5) chars[at] = char;
      else chars.splice(at, 0, char);
    }
    return chars.join('');
  }
  const lines = record.split('\n');
  const at = pick(lines.length);
  if (kind === 3) lines.splice(at, 1);
  else lines.splice(pick(lines.length), 0, lines[at]!);
  return lines.join('\n');
}

test('every mutation of a real record decodes or throws ModsecurityRecordError', () => {
  const random = seededRandom(testSeed('modsecurity mutations'));
  let decoded = 0;
  let refused = 0;
  for (const record of records) {
    for (let round = 0; round < 300; round++) {
      const damaged = mutate(record, random);
      let event: ModsecurityEvent;
      try {
        event = decodeModsecurity(damaged);
      } catch (error) {
        if (!(error instanceof ModsecurityRecordError)) {
          throw new Error(`not a ModsecurityRecordError, for ${JSON.stringify(damaged)}`, {
            cause: error,
          });
        }
        refused++;
        continue;
      }
      assert.equal(event.event.original, damaged);
      assert.equal(typeof JSON.stringify(event), 'string');
      decoded++;
    }
  }
  assert.ok(decoded > 0 && refused > 0, `${decoded} decoded, ${refused} refused`);
});
