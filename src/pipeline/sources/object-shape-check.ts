/**
 * The cheap event check of `keepwire ship --shape-only` (the default is the
 * full RFC 8259 check of json-object-check.ts): a line
 * is accepted when its first and last non-space bytes are `{` and `}` and
 * it is valid UTF-8. That rejects and counts what usually goes wrong in an
 * NDJSON file (a plain-text line, a line cut in two, binary garbage), at
 * about 15 GB/s, where the full check runs at about 0.6 GB/s and was the
 * largest cost of a ship run. It does not prove the line is JSON: `{oops}`
 * passes, and the collector sees it.
 */
import { isUtf8 } from 'node:buffer';

function isSpace(byte: number): boolean {
  return byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;
}

export function isObjectShaped(bytes: Buffer): boolean {
  let first = 0;
  let last = bytes.length - 1;
  while (first <= last && isSpace(bytes[first]!)) first += 1;
  while (last > first && isSpace(bytes[last]!)) last -= 1;
  return last > first && bytes[first] === 0x7b && bytes[last] === 0x7d && isUtf8(bytes);
}
