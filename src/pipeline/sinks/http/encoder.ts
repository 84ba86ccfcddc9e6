/**
 * Records -> request body. A record is already one JSON document, so the
 * body is the records joined by constant separators: NDJSON (`a\nb\n`) or a
 * JSON array (`[a,b]`), copied into one buffer from `allocate` (a BodyPool's,
 * so bodies are reused).
 */
const NEWLINE = 0x0a;
const COMMA = 0x2c;

export type Encoding = 'ndjson' | 'json';

export const CONTENT_TYPES: Readonly<Record<Encoding, string>> = {
  ndjson: 'application/x-ndjson',
  json: 'application/json',
};

/** Bytes of the body `encodeBatch` makes of `records`. */
export function encodedBytes(records: readonly Buffer[], encoding: Encoding): number {
  let length = 0;
  for (const record of records) length += record.length;
  if (encoding === 'ndjson') return length + records.length; // a newline after each
  return length + (records.length === 0 ? 2 : records.length + 1); // [, commas, ]
}

export function encodeBatch(
  records: readonly Buffer[],
  encoding: Encoding,
  allocate: (bytes: number) => Buffer = Buffer.allocUnsafe,
): Buffer {
  const body = allocate(encodedBytes(records, encoding));
  let at = 0;
  if (encoding === 'ndjson') {
    for (const record of records) {
      body.set(record, at);
      at += record.length;
      body[at++] = NEWLINE;
    }
    return body;
  }
  body[at++] = 0x5b; // [
  for (let index = 0; index < records.length; index += 1) {
    if (index > 0) body[at++] = COMMA;
    body.set(records[index]!, at);
    at += records[index]!.length;
  }
  body[at++] = 0x5d; // ]
  return body;
}
