/**
 * Records -> request body. A record is already one JSON document, so the
 * body is the records joined by constant, pre-allocated separators:
 * NDJSON (`a\nb\n`) or a JSON array (`[a,b]`). One Buffer.concat per batch.
 */
const NEWLINE = Buffer.from('\n');
const COMMA = Buffer.from(',');
const OPEN = Buffer.from('[');
const CLOSE = Buffer.from(']');

export type Encoding = 'ndjson' | 'json';

export const CONTENT_TYPES: Readonly<Record<Encoding, string>> = {
  ndjson: 'application/x-ndjson',
  json: 'application/json',
};

export function encodeBatch(records: readonly Buffer[], encoding: Encoding): Buffer {
  const parts: Buffer[] = new Array(records.length * 2 + 1);
  let length = 0;
  let count = 0;
  if (encoding === 'ndjson') {
    for (const record of records) {
      parts[count++] = record;
      parts[count++] = NEWLINE;
      length += record.length + 1;
    }
  } else {
    parts[count++] = OPEN;
    for (let index = 0; index < records.length; index += 1) {
      if (index > 0) parts[count++] = COMMA;
      parts[count++] = records[index]!;
      length += records[index]!.length + (index > 0 ? 1 : 0);
    }
    parts[count++] = CLOSE;
    length += 2;
  }
  parts.length = count;
  return Buffer.concat(parts, length);
}
