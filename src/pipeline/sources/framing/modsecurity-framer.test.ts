import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { makeDataDir } from '../../../../test/support/keepwire-process.ts';
import { nativeRecord } from '../../../../test/support/modsecurity-fixtures.ts';
import { ModsecurityFramer } from './modsecurity-framer.ts';
import { type FramedRecord, type MalformedRecord, recordText } from './record-framer.ts';

const native = nativeRecord;
const json = (n: number) => `{"transaction":{"unique_id":"${n}"}}\n`;

function frame(input: string | Buffer, chunkBytes: number, storageDir?: string) {
  const malformed: MalformedRecord[] = [];
  const framer = new ModsecurityFramer({
    maxRecordBytes: 4096,
    storageDir,
    onMalformed: (problem) => malformed.push(problem),
  });
  const bytes = Buffer.from(input);
  const records: FramedRecord[] = [];
  for (let at = 0; at < bytes.length; at += chunkBytes)
    records.push(...framer.push(bytes.subarray(at, at + chunkBytes)));
  const consumed = framer.consumedBytes;
  records.push(...framer.end());
  return { records, malformed, consumed };
}

test('JSON lines and v2 and v3 Native records in one log, whatever the chunk size', () => {
  const input = json(1) + native('aaaaaaaa') + json(2) + native('bbbbbbbb', true) + json(3);
  for (const chunkBytes of [1, 7, 64, 100_000]) {
    const { records, malformed, consumed } = frame(input, chunkBytes);
    assert.deepEqual(malformed, []);
    assert.equal(consumed, Buffer.byteLength(input));
    assert.deepEqual(
      records.map((record) => [record.line, recordText(record).split('\n')[0]]),
      [
        [1, '{"transaction":{"unique_id":"1"}}'],
        [2, '---aaaaaaaa---A--'],
        [12, '{"transaction":{"unique_id":"2"}}'],
        [13, '--bbbbbbbb-A--'],
        [23, '{"transaction":{"unique_id":"3"}}'],
      ],
    );
    assert.equal(records[1]!.text, native('aaaaaaaa'), 'a Native record is kept as written');
  }
});

test('checkpoints never fall inside a Native record', () => {
  const whole = json(1);
  const half = native('cccccccc').slice(0, 60);
  const { consumed, malformed } = frame(whole + half, 5);
  assert.equal(consumed, whole.length, 'the half-written record is read again after a restart');
  assert.deepEqual(
    malformed.map((problem) => problem.reason),
    ['missing_end'],
    'only the end of input calls it unfinished',
  );
});

test('malformed input is reported with its line and framing goes on', () => {
  const input =
    native('dddddddd', false, false) + // no Z: the next A boundary starts a new record
    native('eeeeeeee') +
    '\u0000\u0001\u00ff garbage\n\u0002 more garbage\n' +
    '{"transaction":{"unique_id":"trunc\n' + // framed; the decoder refuses it
    json(4);
  const { records, malformed } = frame(input, 13);
  assert.deepEqual(
    malformed.map(({ reason, line }) => [reason, line]),
    [
      ['missing_end', 1],
      ['garbage', 19],
    ],
  );
  assert.deepEqual(
    records.map((record) => record.line),
    [9, 21, 22],
  );
  assert.equal(records[0]!.text, native('eeeeeeee'));
});

test('a record above maxRecordBytes is skipped whole, the next one read', () => {
  const big = native('ffffffff').replace('Host: 127.0.0.1', `X-Big: ${'x'.repeat(5000)}`);
  const { records, malformed } = frame(big + json(5), 100);
  assert.deepEqual(
    malformed.map(({ reason, line }) => [reason, line]),
    [['too_large', 1]],
  );
  assert.deepEqual(records.map(recordText), [json(5).trimEnd()]);
});

test('concurrent index lines: each named file is one record, a storage directory replaces the index prefix', () => {
  const dir = makeDataDir('kw-modsec-index-');
  const day = join(dir, 'storage', '20261123', '20261123-0439');
  mkdirSync(day, { recursive: true });
  writeFileSync(join(day, '20261123-043913-1.1'), json(1));
  writeFileSync(join(day, '20261123-043913-2.2'), native('gggggggg'));
  const line = (name: string) =>
    `127.0.0.1:60743 127.0.0.1 - [23/Nov/2026:04:39:13 +0000] "GET /?a=b c HTTP/1.1" 403 153 - "curl/7.88.1" 1.1 - ` +
    `/var/log/modsec_audit/20261123/20261123-0439/${name} 0 2389.000000 md5:957c9fcb9869c62f9878176daf7b3a46\n`;
  const index =
    line('20261123-043913-1.1') + line('20261123-043913-2.2') + line('20261123-043913-3.3');
  const { records, malformed } = frame(index, 50, join(dir, 'storage'));
  assert.deepEqual(
    records.map((record) => [record.line, recordText(record).split('\n')[0]]),
    [
      [1, json(1).trimEnd()],
      [2, '---gggggggg---A--'],
    ],
  );
  assert.equal(records[0]!.path, join(day, '20261123-043913-1.1'));
  assert.deepEqual(
    malformed.map(({ reason, line }) => [reason, line]),
    [['missing_file', 3]],
  );
  assert.match(malformed[0]!.detail, /20261123-043913-3\.3 cannot be read \(ENOENT\)/);
});
