/**
 * The UTC date and hour of a document, from its timestamp field's bytes, as
 * one number (YYYYMMDDHH) that keys the encoder's cache of index names.
 * ISO 8601 in UTC (`2024-05-06T12:34:56.789Z`, also `+00:00`, `+0000`) is
 * read straight from the bytes; any other form (an offset, escapes, epoch
 * milliseconds as a number) goes through Date. A date-time without an offset
 * is taken as UTC. Returns -1 when there is no usable date.
 */
import type { FieldSpan } from './field-scanner.ts';

const QUOTE = 0x22;
const HAS_OFFSET = /(?:Z|[+-]\d\d:?\d\d)$/i;
const HAS_TIME = /\d[T ]\d/;

export function dateKey(record: Buffer, span: FieldSpan): number {
  if (span.start < 0) return -1;
  if (record[span.start] !== QUOTE) return epochKey(record, span);
  const from = span.start + 1;
  const to = span.end - 1;
  if (to - from >= 20 && isUtc(record, from, to)) {
    const year = digits(record, from, 4);
    const month = digits(record, from + 5, 2);
    const day = digits(record, from + 8, 2);
    const hour = digits(record, from + 11, 2);
    const separator = record[from + 10];
    if (
      record[from + 4] === 0x2d &&
      record[from + 7] === 0x2d &&
      (separator === 0x54 || separator === 0x20) &&
      year >= 0 &&
      month >= 1 &&
      month <= 12 &&
      day >= 1 &&
      day <= 31 &&
      hour >= 0 &&
      hour <= 23
    ) {
      return ((year * 100 + month) * 100 + day) * 100 + hour;
    }
  }
  return textKey(record, span);
}

/** The key of a time in milliseconds since the epoch. */
export function keyOfTime(ms: number): number {
  const date = new Date(ms);
  return (
    ((date.getUTCFullYear() * 100 + date.getUTCMonth() + 1) * 100 + date.getUTCDate()) * 100 +
    date.getUTCHours()
  );
}

/** Ends in `Z`, `+00:00`, `+0000`, `-00:00` or `-0000`. */
function isUtc(record: Buffer, from: number, to: number): boolean {
  if (record[to - 1] === 0x5a) return true;
  const colon = record[to - 3] === 0x3a;
  const sign = record[colon ? to - 6 : to - 5];
  if (sign !== 0x2b && sign !== 0x2d) return false;
  return colon
    ? digits(record, to - 5, 2) === 0 && digits(record, to - 2, 2) === 0
    : digits(record, to - 4, 4) === 0 && to - 5 > from;
}

function digits(record: Buffer, at: number, count: number): number {
  let value = 0;
  for (let index = at; index < at + count; index += 1) {
    const digit = record[index]! - 0x30;
    if (digit < 0 || digit > 9) return -1;
    value = value * 10 + digit;
  }
  return value;
}

function textKey(record: Buffer, span: FieldSpan): number {
  let text: unknown;
  try {
    text = JSON.parse(record.toString('utf8', span.start, span.end));
  } catch {
    return -1;
  }
  if (typeof text !== 'string') return -1;
  const iso = HAS_TIME.test(text) && !HAS_OFFSET.test(text) ? `${text}Z` : text;
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? -1 : keyOfTime(ms);
}

function epochKey(record: Buffer, span: FieldSpan): number {
  const ms = Number(record.toString('latin1', span.start, span.end));
  return Number.isFinite(ms) && Math.abs(ms) < 8.64e15 ? keyOfTime(ms) : -1;
}
