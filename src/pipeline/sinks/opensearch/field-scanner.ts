/**
 * Finds one field's value in a record's bytes without parsing the record:
 * the `_id` and the date of a document come from two fields (`event.id`,
 * `@timestamp` by default) of an event that is otherwise copied as it is.
 * The record is valid JSON (sources check it), so the scan only has to
 * find where keys and values start and end: strings are jumped with
 * `indexOf('"')` (memchr) and a count of the backslashes before the quote,
 * nested values by depth. The path is a list of keys, looked up level by
 * level (`event.id` -> key `event`, then key `id` inside it); when that
 * finds nothing, a top-level key spelled with the dots (`"event.id": ...`,
 * as flattened ECS writes it) is used.
 *
 * Keys are compared as written: a key spelled with escapes (`"\u0040timestamp"`)
 * does not match. JSON writers never escape these names.
 */

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const COLON = 0x3a;
const COMMA = 0x2c;

/** Where a field's value lies in the record: [start, end); start is -1 when absent. */
export interface FieldSpan {
  start: number;
  end: number;
}

export class FieldPath {
  readonly #keys: readonly Buffer[];
  readonly #dotted: Buffer;

  constructor(path: string) {
    this.#keys = path.split('.').map((key) => Buffer.from(key));
    this.#dotted = Buffer.from(path);
  }

  /** Sets `span` to the value's bytes (a string's with its quotes); start -1 when absent. */
  find(record: Buffer, span: FieldSpan): void {
    span.start = -1;
    const at = skipSpace(record, 0);
    if (record[at] !== OPEN_BRACE) return;
    this.#findIn(record, at, 0, span);
  }

  /** Scans the object at `at` for key number `level` of the path. */
  #findIn(record: Buffer, at: number, level: number, span: FieldSpan): void {
    const key = this.#keys[level]!;
    const isLast = level === this.#keys.length - 1;
    const dotted = level === 0 && this.#keys.length > 1 ? this.#dotted : undefined;
    let dottedStart = -1;
    let dottedEnd = -1;
    let index = skipSpace(record, at + 1);
    if (record[index] === CLOSE_BRACE) return;
    while (index < record.length && record[index] === QUOTE) {
      const keyEnd = stringEnd(record, index);
      if (keyEnd < 0) return;
      let value = skipSpace(record, keyEnd);
      if (record[value] !== COLON) return;
      value = skipSpace(record, value + 1);
      const isMatch = isKey(record, index + 1, keyEnd - 1, key);
      // Into the matching object before measuring it: its end is only needed
      // when the key is not in it (`event.original`, most of a normalized
      // ModSecurity event, is never scanned for `event.id`).
      if (isMatch && !isLast && record[value] === OPEN_BRACE) {
        this.#findIn(record, value, level + 1, span);
        if (span.start >= 0) return;
      }
      const valueEnd = valueEndAt(record, value);
      if (valueEnd < 0) return;
      if (isMatch) {
        if (isLast) {
          span.start = value;
          span.end = valueEnd;
          return;
        }
      } else if (dotted !== undefined && isKey(record, index + 1, keyEnd - 1, dotted)) {
        dottedStart = value;
        dottedEnd = valueEnd;
      }
      index = skipSpace(record, valueEnd);
      if (record[index] !== COMMA) break;
      index = skipSpace(record, index + 1);
    }
    if (dottedStart >= 0 && record[index] === CLOSE_BRACE) {
      span.start = dottedStart;
      span.end = dottedEnd;
    }
  }
}

function isKey(record: Buffer, start: number, end: number, key: Buffer): boolean {
  if (end - start !== key.length) return false;
  for (let offset = 0; offset < key.length; offset += 1)
    if (record[start + offset] !== key[offset]) return false;
  return true;
}

function skipSpace(record: Buffer, at: number): number {
  let index = at;
  while (index < record.length) {
    const byte = record[index]!;
    if (byte !== 0x20 && byte !== 0x0a && byte !== 0x0d && byte !== 0x09) break;
    index += 1;
  }
  return index;
}

/** The index after the closing quote of the string whose opening quote is at `at`; -1 if unterminated. */
function stringEnd(record: Buffer, at: number): number {
  let from = at + 1;
  for (;;) {
    const quote = record.indexOf(QUOTE, from);
    if (quote < 0) return -1;
    let backslashes = 0;
    while (record[quote - 1 - backslashes] === BACKSLASH) backslashes += 1;
    if (backslashes % 2 === 0) return quote + 1;
    from = quote + 1;
  }
}

/** The index after the value that starts at `at`; -1 when the record ends first. */
function valueEndAt(record: Buffer, at: number): number {
  const first = record[at];
  if (first === QUOTE) return stringEnd(record, at);
  if (first !== OPEN_BRACE && first !== OPEN_BRACKET) {
    let index = at;
    while (index < record.length) {
      const byte = record[index]!;
      if (byte === COMMA || byte === CLOSE_BRACE || byte === CLOSE_BRACKET || byte <= 0x20) break;
      index += 1;
    }
    // Inside an object a value is always followed by something.
    return index === at || index === record.length ? -1 : index;
  }
  let depth = 0;
  let index = at;
  while (index < record.length) {
    const byte = record[index]!;
    if (byte === QUOTE) {
      index = stringEnd(record, index);
      if (index < 0) return -1;
      continue;
    }
    if (byte === OPEN_BRACE || byte === OPEN_BRACKET) depth += 1;
    else if (byte === CLOSE_BRACE || byte === CLOSE_BRACKET) {
      depth -= 1;
      if (depth === 0) return index + 1;
    }
    index += 1;
  }
  return -1;
}
