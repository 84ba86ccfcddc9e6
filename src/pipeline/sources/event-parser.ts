/**
 * Turns a request body into records (one compact JSON object each): NDJSON,
 * or a JSON array when the body starts with `[`. NDJSON lines are kept as
 * sent (validated on the bytes, not re-serialised); array items are
 * serialised once. Every failure names the line or item and what to do.
 */
import { ShipInputInvalidError, ShipInputTooLargeError } from '../errors.ts';
import { isJsonObject } from './json-object-check.ts';

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;

export function parseEvents(body: Buffer, maxLineBytes: number): Buffer[] {
  const first = firstNonSpace(body);
  if (first === -1) return [];
  if (body[first] === 0x5b /* [ */) return parseArray(body);
  return parseNdjson(body, maxLineBytes);
}

function firstNonSpace(body: Buffer): number {
  for (let i = 0; i < body.length; i++) {
    const byte = body[i]!;
    if (byte !== 0x20 && byte !== 0x09 && byte !== NEWLINE && byte !== CARRIAGE_RETURN) return i;
  }
  return -1;
}

function parseArray(body: Buffer): Buffer[] {
  let items: unknown;
  try {
    items = JSON.parse(body.toString('utf8'));
  } catch (error) {
    throw new ShipInputInvalidError(
      `the body starts with "[" but is not a valid JSON array (${(error as Error).message}); send a JSON array of objects or NDJSON`,
    );
  }
  if (!Array.isArray(items)) throw new ShipInputInvalidError('the body is not a JSON array');
  return items.map((item, index) => {
    if (!isObject(item)) {
      throw new ShipInputInvalidError(
        `item ${index} of the array is not a JSON object; each event must be an object`,
      );
    }
    return Buffer.from(JSON.stringify(item));
  });
}

function parseNdjson(body: Buffer, maxLineBytes: number): Buffer[] {
  const records: Buffer[] = [];
  let start = 0;
  let line = 0;
  while (start < body.length) {
    let end = body.indexOf(NEWLINE, start);
    if (end === -1) end = body.length;
    line += 1;
    let stop = end;
    if (stop > start && body[stop - 1] === CARRIAGE_RETURN) stop -= 1;
    if (stop > start) {
      if (stop - start > maxLineBytes) {
        throw new ShipInputTooLargeError(
          `line ${line} is ${stop - start} bytes, above the limit of ${maxLineBytes} (maxLineBytes); split the event or raise the limit`,
        );
      }
      const record = body.subarray(start, stop);
      if (!isJsonObject(record)) {
        throw new ShipInputInvalidError(
          `line ${line} is not a JSON object (${describe(record)}); send one JSON object per line (NDJSON)`,
        );
      }
      records.push(record);
    }
    start = end + 1;
  }
  return records;
}

function describe(record: Buffer): string {
  const text = record.toString('utf8');
  if (text.includes('\uFFFD') || hasControlBytes(record)) return 'binary data';
  try {
    JSON.parse(text);
    return 'valid JSON, but not an object';
  } catch (error) {
    return (error as Error).message;
  }
}

function hasControlBytes(record: Buffer): boolean {
  for (const byte of record) if (byte < 0x09 || (byte > 0x0d && byte < 0x20)) return true;
  return false;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
